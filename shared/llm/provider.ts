/**
 * The model provider port: one `converse` call in a provider-neutral shape (Bedrock Converse is the reference),
 * plus `structured`, which gets typed output through tool use and validates it with the same valibot schema the
 * tool's JSON schema was generated from.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { ServiceUnavailableError } from '../http/errors.ts';

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface ToolUse {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
}

export type ContentPart =
  | { readonly text: string }
  | { readonly toolUse: ToolUse }
  | { readonly toolResult: { readonly toolUseId: string; readonly content: unknown; readonly isError?: boolean } };

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentPart[];
}

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** A JSON schema of type `object`. */
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** `auto`: the model may call a tool; `any`: it must call one; `tool`: it must call the named one. */
export type ToolChoice = { readonly type: 'auto' } | { readonly type: 'any' } | { readonly type: 'tool'; readonly name: string };

/** Why the model stopped. `refused` covers content filters and guardrail interventions. */
export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refused' | 'other';

export interface ConverseInput {
  readonly modelId: string;
  readonly system?: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolSpec[];
  readonly toolChoice?: ToolChoice;
  readonly maxTokens: number;
  readonly temperature?: number;
  /** Whole call, retries included. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface ConverseResult {
  readonly modelId: string;
  /** The text blocks of the answer, joined. */
  readonly content: string;
  readonly toolUse?: readonly ToolUse[];
  readonly stopReason: StopReason;
  /** The provider's own stop reason, for logs. */
  readonly rawStopReason: string;
  readonly usage: TokenUsage;
}

export interface ModelProvider {
  /** Provider name for logs and stored results (`bedrock`, `openai-compatible`). */
  readonly name: string;
  converse(input: ConverseInput): Promise<ConverseResult>;
}

export type ModelErrorCode =
  | 'MODEL_THROTTLED'
  | 'MODEL_TIMEOUT'
  | 'MODEL_REFUSED'
  | 'MODEL_OUTPUT_INVALID'
  | 'MODEL_REQUEST_INVALID'
  | 'MODEL_ACCESS_DENIED'
  | 'MODEL_ERROR';

/**
 * Any failure of a model call. A 503 with a specific code: the model is a dependency, and a route that calls it
 * answers "unavailable" rather than inventing something. `usage` is set when tokens were spent anyway (a refusal
 * or an unusable answer still costs), so budgets count it.
 */
export class ModelError extends ServiceUnavailableError {
  constructor(
    override readonly code: ModelErrorCode,
    message: string,
    readonly usage?: TokenUsage,
    options?: { cause?: unknown; details?: Readonly<Record<string, unknown>> },
  ) {
    super(message, code, options?.details);
    if (options?.cause !== undefined) this.cause = options.cause;
  }

  /** Worth trying again later (throttling, timeouts, service errors). */
  get retryable(): boolean {
    return this.code === 'MODEL_THROTTLED' || this.code === 'MODEL_TIMEOUT' || this.code === 'MODEL_ERROR';
  }
}

/** The JSON schema of a valibot schema, for a tool's input. Checks that JSON schema cannot express are dropped. */
export function toolInputSchema(schema: v.GenericSchema): Record<string, unknown> {
  const { $schema: _dialect, ...json } = toJsonSchema(schema, { errorMode: 'ignore' }) as Record<string, unknown>;
  if (json.type !== 'object') throw new Error('A tool input schema must describe an object');
  return json;
}

/** `path.to.field: message` for each issue, at most 10. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.slice(0, 10).map((issue) => {
    const path = v.getDotPath(issue);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

export interface StructuredInput<TSchema extends v.GenericSchema>
  extends Omit<ConverseInput, 'tools' | 'toolChoice'> {
  readonly schema: TSchema;
  readonly toolName: string;
  readonly toolDescription: string;
  /** Checks the schema cannot express (line ranges against the file, …): each returned string rejects the answer. */
  readonly check?: (value: v.InferOutput<TSchema>) => readonly string[];
}

export interface StructuredResult<T> {
  readonly value: T;
  readonly modelId: string;
  readonly usage: TokenUsage;
}

/**
 * Typed output through tool use: one tool whose input schema is generated from `schema`, the model forced to
 * call it, and its input validated with `schema` (and `check`). Anything else — text instead of the tool call,
 * malformed input, a refusal, a truncated answer — is a {@link ModelError}, so garbage is never returned.
 */
export async function structured<TSchema extends v.GenericSchema>(
  provider: ModelProvider,
  input: StructuredInput<TSchema>,
): Promise<StructuredResult<v.InferOutput<TSchema>>> {
  const { schema, toolName, toolDescription, check, ...rest } = input;
  const result = await provider.converse({
    ...rest,
    tools: [{ name: toolName, description: toolDescription, inputSchema: toolInputSchema(schema) }],
    toolChoice: { type: 'tool', name: toolName },
  });
  const { usage } = result;
  if (result.stopReason === 'refused') {
    throw new ModelError('MODEL_REFUSED', `The model declined to answer (${result.rawStopReason})`, usage);
  }
  const call = result.toolUse?.find((use) => use.name === toolName);
  if (!call) {
    const why = result.stopReason === 'max_tokens' ? 'the answer was cut off at the token limit' : `it answered without calling ${toolName}`;
    throw new ModelError('MODEL_OUTPUT_INVALID', `The model's answer is unusable: ${why}`, usage);
  }
  const parsed = v.safeParse(schema, call.input);
  if (!parsed.success) {
    throw new ModelError('MODEL_OUTPUT_INVALID', 'The model returned input that does not match the schema', usage, {
      details: { issues: describeIssues(parsed.issues) },
    });
  }
  const problems = check?.(parsed.output) ?? [];
  if (problems.length > 0) {
    throw new ModelError('MODEL_OUTPUT_INVALID', `The model's answer was rejected: ${problems.join('; ')}`, usage, {
      details: { issues: problems },
    });
  }
  return { value: parsed.output, modelId: result.modelId, usage };
}
