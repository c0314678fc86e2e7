/**
 * One turn of the security assistant: the model may call tools (bound by the caller to one user's data), each
 * call's input is validated with the tool's valibot schema, tool results go back as untrusted blocks, and every
 * model call is budgeted like any other. Only the user's message and the final answer are meant for memory.
 */
import * as v from 'valibot';
import { redactSecrets } from '../domain/mask.ts';
import { tableLedger } from './accounting.ts';
import { estimateCostMicroUsd, tokenBudgets } from './models.ts';
import { assistantPrompt } from './prompts/assistant.ts';
import { promptRef } from './prompts/template.ts';
import { describeIssues, ModelError, toolInputSchema, type ChatMessage, type ContentPart, type ModelErrorCode, type TokenUsage, type ToolSpec } from './provider.ts';
import { estimateTokens, modelFor, platformProvider, type ModelContext } from './run.ts';
import { newBoundary, untrustedBlock } from './untrusted.ts';

export interface ChatTool<TSchema extends v.GenericSchema = v.GenericSchema> {
  readonly name: string;
  readonly description: string;
  readonly schema: TSchema;
  /** Runs with validated input; the caller binds it to the signed-in user's data. */
  run(input: v.InferOutput<TSchema>): Promise<unknown>;
}

/** Typed helper so `run` sees its schema's output type. */
export const chatTool = <TSchema extends v.GenericSchema>(tool: ChatTool<TSchema>): ChatTool => tool as unknown as ChatTool;

export interface ChatTurnInput {
  /** Earlier turns, text only, oldest first. */
  readonly history: readonly { readonly role: 'user' | 'assistant'; readonly text: string }[];
  readonly message: string;
  readonly tools: readonly ChatTool[];
}

export type ChatOutcome =
  | {
      readonly status: 'ok';
      readonly reply: string;
      readonly modelId: string;
      readonly promptVersion: string;
      readonly toolCalls: readonly { readonly name: string; readonly ok: boolean }[];
      readonly usage: TokenUsage & { readonly calls: number };
    }
  | { readonly status: 'budget_exhausted'; readonly usage: TokenUsage & { readonly calls: number } }
  | { readonly status: 'failed'; readonly code: ModelErrorCode; readonly message: string; readonly usage: TokenUsage & { readonly calls: number } };

/** Earlier messages sent with each turn. */
export const MAX_HISTORY_MESSAGES = 20;
/** Model calls in one turn (each tool round is one). */
export const MAX_TOOL_ROUNDS = 5;
/** Characters of one tool result sent back to the model. */
export const MAX_TOOL_RESULT_CHARS = 12_000;

async function runTool(tool: ChatTool | undefined, name: string, input: unknown): Promise<{ ok: boolean; content: string }> {
  if (!tool) return { ok: false, content: `There is no tool named ${name}.` };
  const parsed = v.safeParse(tool.schema, input);
  if (!parsed.success) return { ok: false, content: `Invalid input: ${describeIssues(parsed.issues).join('; ')}` };
  try {
    const text = JSON.stringify(await tool.run(parsed.output)) ?? 'null';
    return { ok: true, content: text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}… (truncated)` : text };
  } catch (error) {
    // The model sees that the tool failed, never the internal error.
    return { ok: false, content: error instanceof ModelError || !(error instanceof Error) ? 'The tool failed.' : `The tool failed: ${error.name}` };
  }
}

/**
 * History plus the new message as the model expects it: starting with the user, roles alternating (a turn whose
 * answer failed leaves two user messages in a row, which are joined), secrets masked.
 */
export function conversation(history: ChatTurnInput['history'], message: string): ChatMessage[] {
  const merged: { role: 'user' | 'assistant'; text: string }[] = [];
  for (const m of [...history.slice(-MAX_HISTORY_MESSAGES), { role: 'user' as const, text: message }]) {
    const last = merged.at(-1);
    if (last?.role === m.role) last.text = `${last.text}\n\n${m.text}`;
    else merged.push({ role: m.role, text: m.text });
  }
  while (merged[0]?.role === 'assistant') merged.shift();
  return merged.map((m) => ({ role: m.role, content: [{ text: redactSecrets(m.text) }] }));
}

export async function chatTurn(input: ChatTurnInput, ctx: ModelContext): Promise<ChatOutcome> {
  const modelId = modelFor(ctx, assistantPrompt.role);
  const provider = ctx.provider ?? platformProvider();
  const ledger = ctx.ledger ?? tableLedger;
  const budgets = ctx.budgets ?? tokenBudgets();
  const boundary = newBoundary();
  const system = assistantPrompt.system(boundary);
  const specs: ToolSpec[] = input.tools.map((t) => ({ name: t.name, description: t.description, inputSchema: toolInputSchema(t.schema) }));
  const byName = new Map(input.tools.map((t) => [t.name, t]));
  const messages = conversation(input.history, input.message);
  const usage = { inputTokens: 0, outputTokens: 0, calls: 0 };
  const toolCalls: { name: string; ok: boolean }[] = [];

  for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
    const reserved = estimateTokens(system + JSON.stringify(messages) + JSON.stringify(specs)) + assistantPrompt.maxTokens;
    const now = Date.now();
    if (!(await ledger.reserve(ctx.scope, reserved, budgets, now))) return { status: 'budget_exhausted', usage };
    const settle = (spent: TokenUsage, called: boolean) =>
      ledger.settle(ctx.scope, { reserved, ...spent, costMicroUsd: estimateCostMicroUsd(modelId, spent), called }, now);
    let result;
    try {
      result = await provider.converse({
        modelId,
        system,
        messages,
        tools: specs.length > 0 ? specs : undefined,
        toolChoice: specs.length > 0 ? { type: 'auto' } : undefined,
        maxTokens: assistantPrompt.maxTokens,
        temperature: assistantPrompt.temperature,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      });
    } catch (error) {
      await settle({ inputTokens: 0, outputTokens: 0 }, false);
      if (error instanceof ModelError) return { status: 'failed', code: error.code, message: error.message, usage };
      throw error;
    }
    await settle(result.usage, true);
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    usage.calls += 1;
    if (result.stopReason === 'refused') {
      return { status: 'failed', code: 'MODEL_REFUSED', message: `The model declined to answer (${result.rawStopReason})`, usage };
    }
    const uses = result.toolUse ?? [];
    if (uses.length === 0) {
      if (result.content.trim() === '') return { status: 'failed', code: 'MODEL_OUTPUT_INVALID', message: 'The model returned an empty answer', usage };
      return { status: 'ok', reply: redactSecrets(result.content), modelId, promptVersion: promptRef(assistantPrompt), toolCalls, usage };
    }
    const assistantParts: ContentPart[] = [...(result.content ? [{ text: result.content }] : []), ...uses.map((use) => ({ toolUse: use }))];
    messages.push({ role: 'assistant', content: assistantParts });
    const results: ContentPart[] = [];
    for (const use of uses) {
      const outcome = await runTool(byName.get(use.name), use.name, use.input);
      toolCalls.push({ name: use.name, ok: outcome.ok });
      results.push({
        toolResult: { toolUseId: use.id, content: untrustedBlock(boundary, `result of ${use.name}`, outcome.content), isError: !outcome.ok },
      });
    }
    messages.push({ role: 'user', content: results });
  }
  return { status: 'failed', code: 'MODEL_ERROR', message: `The assistant needed more than ${MAX_TOOL_ROUNDS} tool rounds`, usage };
}
