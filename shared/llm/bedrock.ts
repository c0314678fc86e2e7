/**
 * The Bedrock Converse adapter. The SDK's own retries are off (maxAttempts 1) so this adapter alone decides:
 * throttling and service errors are retried a bounded number of times with full-jitter exponential backoff, the
 * whole call (retries included) is bounded by `timeoutMs`, and refusals come back as `stopReason: 'refused'`.
 */
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ContentBlock,
  type ConverseCommandInput,
  type Message,
  type Tool,
  type ToolChoice as SdkToolChoice,
  type ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import {
  ModelError,
  type ChatMessage,
  type ConverseInput,
  type ConverseResult,
  type ModelProvider,
  type StopReason,
  type ToolChoice,
  type ToolUse,
} from './provider.ts';

/** The SDK's JSON document type. */
type DocumentType = NonNullable<ToolUseBlock['input']>;

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000 };
export const DEFAULT_TIMEOUT_MS = 60_000;

let shared: { endpoint: string | undefined; client: BedrockRuntimeClient } | undefined;

/**
 * One client per cold start. The SDK reads AWS_ENDPOINT_URL_BEDROCK_RUNTIME itself; the client is rebuilt only
 * if that variable changes (tests and the local stack point it at a local server).
 */
export function bedrockClient(): BedrockRuntimeClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME?.trim() || undefined;
  if (!shared || shared.endpoint !== endpoint) {
    shared?.client.destroy();
    shared = { endpoint, client: new BedrockRuntimeClient({ maxAttempts: 1, ...(endpoint ? { endpoint } : {}) }) };
  }
  return shared.client;
}

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelNotReadyException',
  'ModelTimeoutException',
  'ServiceQuotaExceededException',
  'TooManyRequestsException',
]);

interface SdkErrorShape {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

function errorStatus(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

function isThrottle(error: unknown): boolean {
  const name = (error as SdkErrorShape | undefined)?.name ?? '';
  return name === 'ThrottlingException' || name === 'TooManyRequestsException' || name === 'ServiceQuotaExceededException' || errorStatus(error) === 429;
}

function isRetryable(error: unknown): boolean {
  const name = (error as SdkErrorShape | undefined)?.name ?? '';
  const status = errorStatus(error) ?? 0;
  return RETRYABLE_NAMES.has(name) || status === 429 || status >= 500;
}

/** Full-jitter exponential backoff: a random delay up to min(max, base · 2^attempt). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function toSdkContent(message: ChatMessage): ContentBlock[] {
  return message.content.map((part): ContentBlock => {
    if ('text' in part) return { text: part.text };
    if ('toolUse' in part) {
      return { toolUse: { toolUseId: part.toolUse.id, name: part.toolUse.name, input: part.toolUse.input as DocumentType } };
    }
    const { toolUseId, content, isError } = part.toolResult;
    return {
      toolResult: {
        toolUseId,
        content: [typeof content === 'string' ? { text: content } : { json: content as DocumentType }],
        ...(isError ? { status: 'error' as const } : {}),
      },
    };
  });
}

function toSdkToolChoice(choice: ToolChoice): SdkToolChoice {
  if (choice.type === 'tool') return { tool: { name: choice.name } };
  if (choice.type === 'any') return { any: {} };
  return { auto: {} };
}

/** The Converse request for `input`, exactly as sent. */
export function converseRequest(input: ConverseInput): ConverseCommandInput {
  const messages: Message[] = input.messages.map((m) => ({ role: m.role, content: toSdkContent(m) }));
  const tools: Tool[] | undefined = input.tools?.map((t) => ({
    toolSpec: { name: t.name, description: t.description, inputSchema: { json: t.inputSchema as DocumentType } },
  }));
  return {
    modelId: input.modelId,
    messages,
    ...(input.system ? { system: [{ text: input.system }] } : {}),
    inferenceConfig: { maxTokens: input.maxTokens, ...(input.temperature !== undefined ? { temperature: input.temperature } : {}) },
    ...(tools && tools.length > 0
      ? { toolConfig: { tools, ...(input.toolChoice ? { toolChoice: toSdkToolChoice(input.toolChoice) } : {}) } }
      : {}),
  };
}

function normaliseStop(raw: string | undefined): StopReason {
  switch (raw) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
      return raw;
    case 'content_filtered':
    case 'guardrail_intervened':
      return 'refused';
    case 'model_context_window_exceeded':
      return 'max_tokens';
    default:
      return 'other';
  }
}

function mapFailure(error: unknown, attempts: number): ModelError {
  if (error instanceof ModelError) return error;
  const name = (error as SdkErrorShape | undefined)?.name ?? 'Error';
  const message = (error as SdkErrorShape | undefined)?.message ?? String(error);
  if (isThrottle(error)) {
    return new ModelError('MODEL_THROTTLED', `The model is throttled (${attempts} attempts): ${message}`, undefined, { cause: error });
  }
  if (name === 'AccessDeniedException' || errorStatus(error) === 403) {
    return new ModelError('MODEL_ACCESS_DENIED', `Access to the model was denied: ${message}`, undefined, { cause: error });
  }
  if (name === 'ValidationException' || name === 'ResourceNotFoundException' || errorStatus(error) === 400 || errorStatus(error) === 404) {
    return new ModelError('MODEL_REQUEST_INVALID', `The model rejected the request: ${message}`, undefined, { cause: error });
  }
  return new ModelError('MODEL_ERROR', `The model call failed after ${attempts} attempt(s): ${name}: ${message}`, undefined, { cause: error });
}

export interface BedrockProviderOptions {
  readonly client?: BedrockRuntimeClient;
  readonly retry?: Partial<RetryPolicy>;
  readonly random?: () => number;
}

export class BedrockConverseProvider implements ModelProvider {
  readonly name = 'bedrock';
  private readonly retry: RetryPolicy;

  constructor(private readonly options: BedrockProviderOptions = {}) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  async converse(input: ConverseInput): Promise<ConverseResult> {
    const client = this.options.client ?? bedrockClient();
    const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const controller = new AbortController();
    const timeout = new Error(`The model did not answer within ${timeoutMs} ms`);
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    const onOuterAbort = () => controller.abort(input.signal?.reason);
    if (input.signal?.aborted) onOuterAbort();
    input.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const command = new ConverseCommand(converseRequest(input));
    let attempt = 0;
    try {
      for (;;) {
        attempt += 1;
        try {
          const answer = await client.send(command, { abortSignal: controller.signal });
          const blocks = answer.output?.message?.content ?? [];
          const text = blocks.flatMap((b) => (typeof b.text === 'string' ? [b.text] : [])).join('');
          const toolUse: ToolUse[] = blocks.flatMap((b) =>
            b.toolUse?.name ? [{ id: b.toolUse.toolUseId ?? '', name: b.toolUse.name, input: b.toolUse.input }] : [],
          );
          const rawStop = answer.stopReason ?? 'unknown';
          return {
            modelId: input.modelId,
            content: text,
            ...(toolUse.length > 0 ? { toolUse } : {}),
            stopReason: normaliseStop(rawStop),
            rawStopReason: rawStop,
            usage: { inputTokens: answer.usage?.inputTokens ?? 0, outputTokens: answer.usage?.outputTokens ?? 0 },
          };
        } catch (error) {
          if (controller.signal.aborted) {
            if (controller.signal.reason === timeout) {
              throw new ModelError('MODEL_TIMEOUT', timeout.message, undefined, { cause: error });
            }
            throw new ModelError('MODEL_ERROR', 'The model call was cancelled', undefined, { cause: error });
          }
          if (!isRetryable(error) || attempt >= this.retry.maxAttempts) throw mapFailure(error, attempt);
          try {
            await sleep(backoffDelay(attempt - 1, this.retry, this.options.random), controller.signal);
          } catch {
            throw controller.signal.reason === timeout
              ? new ModelError('MODEL_TIMEOUT', timeout.message, undefined, { cause: error })
              : new ModelError('MODEL_ERROR', 'The model call was cancelled', undefined, { cause: error });
          }
        }
      }
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}
