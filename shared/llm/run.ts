/**
 * One templated model call with the platform's guarantees: a cache hit costs nothing, a call starts only when
 * its estimated tokens fit every budget, the answer is validated before it is cached or returned, and every
 * failure comes back as a status instead of an exception (only a missing model configuration throws).
 */
import * as v from 'valibot';
import { modelCacheKey } from '../db/model-cache.ts';
import { logger } from '../runtime/powertools.ts';
import { tableCache, tableLedger, type ModelResultCache, type UsageLedger, type UsageScope } from './accounting.ts';
import { ConfigError } from '../runtime/env.ts';
import { cacheTtlSeconds, estimateCostMicroUsd, MODEL_ENV, requireModel, tokenBudgets, type ModelRole, type TokenBudgets } from './models.ts';
import { OpenAiCompatibleProvider } from './openai-compatible.ts';
import { promptRef, type PromptTemplate } from './prompts/template.ts';
import { ModelError, structured, toolInputSchema, type ModelErrorCode, type ModelProvider, type TokenUsage } from './provider.ts';
import { BedrockConverseProvider } from './bedrock.ts';
import { newBoundary } from './untrusted.ts';

export interface ModelContext {
  readonly provider?: ModelProvider;
  /** Who pays: the scan and/or the user (per UTC day). */
  readonly scope: UsageScope;
  /** Model per role; defaults to BEDROCK_FAST_MODEL_ID / BEDROCK_MODEL_ID. */
  readonly models?: Partial<Record<ModelRole, string>>;
  readonly budgets?: TokenBudgets;
  /** `false` disables caching (the assistant's free-form turns). */
  readonly cache?: ModelResultCache | false;
  readonly ledger?: UsageLedger;
  readonly cacheTtlSeconds?: number;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type PromptOutcome<T> =
  | { readonly status: 'ok'; readonly value: T; readonly cached: boolean; readonly modelId: string; readonly promptVersion: string; readonly usage: TokenUsage }
  | { readonly status: 'budget_exhausted' }
  | { readonly status: 'failed'; readonly code: ModelErrorCode; readonly message: string; readonly usage: TokenUsage };

const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0 };

let defaultProvider: { key: string; provider: ModelProvider } | undefined;

/**
 * The platform's provider, built once: Bedrock Converse, or an OpenAI-compatible server when
 * MODEL_PROVIDER=openai-compatible (OPENAI_BASE_URL, optional OPENAI_API_KEY).
 */
export function platformProvider(): ModelProvider {
  const kind = process.env[MODEL_ENV.provider]?.trim() || 'bedrock';
  const baseUrl = process.env[MODEL_ENV.openAiBaseUrl]?.trim();
  const key = `${kind}|${baseUrl ?? ''}`;
  if (defaultProvider?.key === key) return defaultProvider.provider;
  let provider: ModelProvider;
  if (kind === 'bedrock') provider = new BedrockConverseProvider();
  else if (kind === 'openai-compatible') {
    if (!baseUrl) throw new ConfigError(`${MODEL_ENV.openAiBaseUrl} is required when ${MODEL_ENV.provider}=openai-compatible`);
    provider = new OpenAiCompatibleProvider({ baseUrl, apiKey: process.env[MODEL_ENV.openAiApiKey]?.trim() || undefined });
  } else throw new ConfigError(`${MODEL_ENV.provider} must be bedrock or openai-compatible`);
  defaultProvider = { key, provider };
  return provider;
}

/** A deliberately high estimate of a prompt's tokens (code runs about 3–4 characters a token). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

/** The model a context uses for `role`; 503 AI_NOT_CONFIGURED when there is none. */
export function modelFor(ctx: Pick<ModelContext, 'models'>, role: ModelRole): string {
  return ctx.models?.[role] ?? requireModel(role);
}

export async function runPrompt<TInput, TSchema extends v.GenericSchema>(
  template: PromptTemplate<TInput, TSchema>,
  input: TInput,
  ctx: ModelContext,
): Promise<PromptOutcome<v.InferOutput<TSchema>>> {
  const modelId = modelFor(ctx, template.role);
  const promptVersion = promptRef(template);
  const cache = ctx.cache === false ? undefined : (ctx.cache ?? tableCache);
  const ledger = ctx.ledger ?? tableLedger;
  const hash = modelCacheKey({ content: template.cacheContent(input), promptId: template.id, promptVersion: template.version, modelId });

  const hit = await cache?.get(hash);
  if (hit) {
    // A cached answer is checked again, so an entry written by a buggy or older build is never trusted.
    const parsed = v.safeParse(template.schema, hit.value);
    if (parsed.success && (template.check?.(parsed.output, input) ?? []).length === 0) {
      return { status: 'ok', value: parsed.output, cached: true, modelId, promptVersion, usage: NO_USAGE };
    }
  }

  const boundary = newBoundary();
  const system = template.system(boundary);
  const user = template.render(input, boundary);
  const reserved = estimateTokens(system + user + JSON.stringify(toolInputSchema(template.schema))) + template.maxTokens;
  const now = Date.now();
  if (!(await ledger.reserve(ctx.scope, reserved, ctx.budgets ?? tokenBudgets(), now))) return { status: 'budget_exhausted' };

  const settle = (usage: TokenUsage, called: boolean) =>
    ledger.settle(ctx.scope, { reserved, ...usage, costMicroUsd: estimateCostMicroUsd(modelId, usage), called }, now);
  try {
    const answer = await structured(ctx.provider ?? platformProvider(), {
      modelId,
      system,
      messages: [{ role: 'user', content: [{ text: user }] }],
      maxTokens: template.maxTokens,
      temperature: template.temperature,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      schema: template.schema,
      toolName: template.toolName,
      toolDescription: template.toolDescription,
      check: template.check ? (value) => template.check?.(value, input) ?? [] : undefined,
    });
    await settle(answer.usage, true);
    try {
      await cache?.put({ hash, value: answer.value, promptId: template.id, promptVersion: template.version, modelId }, ctx.cacheTtlSeconds ?? cacheTtlSeconds());
    } catch (error) {
      // The answer is paid for and valid: a failed cache write only costs a call next time.
      logger.warn('Could not cache a model answer', { prompt: promptVersion, error: error as Error });
    }
    return { status: 'ok', value: answer.value, cached: false, modelId, promptVersion, usage: answer.usage };
  } catch (error) {
    if (!(error instanceof ModelError)) {
      await settle(NO_USAGE, false);
      throw error;
    }
    const usage = error.usage ?? NO_USAGE;
    await settle(usage, error.usage !== undefined);
    logger.warn('Model call failed', { prompt: promptVersion, modelId, code: error.code, reason: error.message });
    return { status: 'failed', code: error.code, message: error.message, usage };
  }
}
