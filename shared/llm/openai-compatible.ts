/**
 * A provider for OpenAI-compatible chat-completions servers (a local model server such as Ollama, vLLM or
 * llama.cpp), behind the same port as Bedrock: tools become function calling, the same retry and timeout rules
 * apply, and a `content_filter` finish is a refusal.
 */
import { backoffDelay, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type RetryPolicy } from './bedrock.ts';
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

export interface OpenAiCompatibleOptions {
  /** e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended. */
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly random?: () => number;
}

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface WireResponse {
  choices?: {
    message?: { content?: string | null; tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[] };
    finish_reason?: string;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

function toWire(messages: readonly ChatMessage[], system: string | undefined): WireMessage[] {
  const out: WireMessage[] = system ? [{ role: 'system', content: system }] : [];
  for (const message of messages) {
    const text = message.content.flatMap((p) => ('text' in p ? [p.text] : [])).join('');
    if (message.role === 'assistant') {
      const calls = message.content.flatMap((p) => ('toolUse' in p ? [p.toolUse] : []));
      out.push({
        role: 'assistant',
        content: text || null,
        ...(calls.length > 0
          ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.input) } })) }
          : {}),
      });
      continue;
    }
    for (const part of message.content) {
      if ('toolResult' in part) {
        const { content } = part.toolResult;
        out.push({ role: 'tool', tool_call_id: part.toolResult.toolUseId, content: typeof content === 'string' ? content : JSON.stringify(content) });
      }
    }
    if (text) out.push({ role: 'user', content: text });
  }
  return out;
}

function toolChoice(choice: ToolChoice | undefined): unknown {
  if (!choice || choice.type === 'auto') return 'auto';
  if (choice.type === 'any') return 'required';
  return { type: 'function', function: { name: choice.name } };
}

function stopReason(raw: string | undefined): StopReason {
  if (raw === 'stop') return 'end_turn';
  if (raw === 'tool_calls' || raw === 'function_call') return 'tool_use';
  if (raw === 'length') return 'max_tokens';
  if (raw === 'content_filter') return 'refused';
  return 'other';
}

export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name = 'openai-compatible';
  private readonly retry: RetryPolicy;
  private readonly url: string;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async converse(input: ConverseInput): Promise<ConverseResult> {
    const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = new Error(`The model did not answer within ${timeoutMs} ms`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    const onOuterAbort = () => controller.abort(input.signal?.reason);
    if (input.signal?.aborted) onOuterAbort();
    input.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const body = JSON.stringify({
      model: input.modelId,
      messages: toWire(input.messages, input.system),
      max_tokens: input.maxTokens,
      ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
      ...(input.tools && input.tools.length > 0
        ? {
            tools: input.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } })),
            tool_choice: toolChoice(input.toolChoice),
          }
        : {}),
    });
    const aborted = (cause: unknown) =>
      controller.signal.reason === timeout
        ? new ModelError('MODEL_TIMEOUT', timeout.message, undefined, { cause })
        : new ModelError('MODEL_ERROR', 'The model call was cancelled', undefined, { cause });
    try {
      for (let attempt = 1; ; attempt++) {
        let response: Response;
        let text: string;
        try {
          response = await fetch(this.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
            body,
            signal: controller.signal,
          });
          text = await response.text();
        } catch (error) {
          if (controller.signal.aborted) throw aborted(error);
          if (attempt >= this.retry.maxAttempts) {
            throw new ModelError('MODEL_ERROR', `The model server is unreachable: ${(error as Error).message}`, undefined, { cause: error });
          }
          await this.wait(attempt, controller.signal).catch((e: unknown) => Promise.reject(aborted(e)));
          continue;
        }
        if (response.status === 429 || response.status >= 500) {
          if (attempt < this.retry.maxAttempts) {
            await this.wait(attempt, controller.signal).catch((e: unknown) => Promise.reject(aborted(e)));
            continue;
          }
          const code = response.status === 429 ? 'MODEL_THROTTLED' : 'MODEL_ERROR';
          throw new ModelError(code, `The model server answered ${response.status} after ${attempt} attempts`);
        }
        let parsed: WireResponse;
        try {
          parsed = JSON.parse(text) as WireResponse;
        } catch {
          throw new ModelError('MODEL_ERROR', `The model server answered ${response.status} with a body that is not JSON`);
        }
        if (!response.ok) {
          const code = response.status === 401 || response.status === 403 ? 'MODEL_ACCESS_DENIED' : 'MODEL_REQUEST_INVALID';
          throw new ModelError(code, `The model server refused the request (${response.status}): ${parsed.error?.message ?? 'no message'}`);
        }
        return this.result(input.modelId, parsed);
      }
    } finally {
      clearTimeout(timer);
      input.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private wait(attempt: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, backoffDelay(attempt - 1, this.retry, this.options.random));
      signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
    });
  }

  private result(modelId: string, parsed: WireResponse): ConverseResult {
    const choice = parsed.choices?.[0];
    const usage = { inputTokens: parsed.usage?.prompt_tokens ?? 0, outputTokens: parsed.usage?.completion_tokens ?? 0 };
    if (!choice?.message) throw new ModelError('MODEL_OUTPUT_INVALID', 'The model server answered without a message', usage);
    const toolUse: ToolUse[] = [];
    for (const call of choice.message.tool_calls ?? []) {
      if (!call.function?.name) continue;
      let args: unknown;
      try {
        args = JSON.parse(call.function.arguments || '{}');
      } catch {
        throw new ModelError('MODEL_OUTPUT_INVALID', `The arguments of ${call.function.name} are not valid JSON`, usage);
      }
      toolUse.push({ id: call.id ?? `call_${toolUse.length}`, name: call.function.name, input: args });
    }
    const raw = choice.finish_reason ?? 'unknown';
    return {
      modelId,
      content: choice.message.content ?? '',
      ...(toolUse.length > 0 ? { toolUse } : {}),
      stopReason: toolUse.length > 0 && raw === 'stop' ? 'tool_use' : stopReason(raw),
      rawStopReason: raw,
      usage,
    };
  }
}
