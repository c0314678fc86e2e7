/**
 * Which model does what, the token budgets, and the cost estimate per model family. Read from the environment
 * on each call so tests and the local stack can set it first.
 */
import { ServiceUnavailableError } from '../http/errors.ts';
import { ConfigError } from '../runtime/env.ts';
import type { TokenUsage } from './provider.ts';

/** `fast`: triage (many small calls). `main`: fixes, explanations, discovery and the assistant. */
export type ModelRole = 'fast' | 'main';

export const MODEL_ENV = {
  main: 'BEDROCK_MODEL_ID',
  fast: 'BEDROCK_FAST_MODEL_ID',
  scanTokenBudget: 'MODEL_SCAN_TOKEN_BUDGET',
  dailyTokenBudget: 'MODEL_DAILY_TOKEN_BUDGET',
  cacheTtlDays: 'MODEL_CACHE_TTL_DAYS',
  /** `bedrock` (default) or `openai-compatible`. */
  provider: 'MODEL_PROVIDER',
  openAiBaseUrl: 'OPENAI_BASE_URL',
  openAiApiKey: 'OPENAI_API_KEY',
} as const;

/** Defaults, documented in docs/llm.md: roughly 100 triaged findings per scan, a working day of chat per user. */
export const DEFAULT_SCAN_TOKEN_BUDGET = 200_000;
export const DEFAULT_DAILY_TOKEN_BUDGET = 1_000_000;
export const DEFAULT_CACHE_TTL_DAYS = 30;

function optionalEnv(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

/** The model for `role`; triage falls back to the main model when no fast one is set. */
export function modelIdFor(role: ModelRole): string | undefined {
  const main = optionalEnv(MODEL_ENV.main);
  return role === 'fast' ? (optionalEnv(MODEL_ENV.fast) ?? main) : main;
}

/** Is a model configured for `role`? Without one, scans run without the model pass and AI routes answer 503. */
export function modelConfigured(role: ModelRole = 'main'): boolean {
  return modelIdFor(role) !== undefined;
}

/** The model for `role`, or 503 `AI_NOT_CONFIGURED`. */
export function requireModel(role: ModelRole = 'main'): string {
  const id = modelIdFor(role);
  if (id === undefined) {
    const variable = role === 'fast' ? `${MODEL_ENV.fast} or ${MODEL_ENV.main}` : MODEL_ENV.main;
    throw new ServiceUnavailableError(`No AI model is configured (set ${variable})`, 'AI_NOT_CONFIGURED');
  }
  return id;
}

function budgetEnv(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  if (raw === undefined) return fallback;
  if (raw.toLowerCase() === 'unlimited') return Number.POSITIVE_INFINITY;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`Environment variable ${name} must be a non-negative integer or "unlimited"`);
  return value;
}

export interface TokenBudgets {
  /** Tokens one scan may spend (triage and discovery together). */
  readonly scanTokens: number;
  /** Tokens one user may spend per UTC day, across scans and the assistant. */
  readonly dailyTokens: number;
}

export function tokenBudgets(): TokenBudgets {
  return {
    scanTokens: budgetEnv(MODEL_ENV.scanTokenBudget, DEFAULT_SCAN_TOKEN_BUDGET),
    dailyTokens: budgetEnv(MODEL_ENV.dailyTokenBudget, DEFAULT_DAILY_TOKEN_BUDGET),
  };
}

/** How long a cached model result lives, in seconds. */
export function cacheTtlSeconds(): number {
  return budgetEnv(MODEL_ENV.cacheTtlDays, DEFAULT_CACHE_TTL_DAYS) * 86_400;
}

/** USD per million tokens, on-demand, from the Bedrock price list; the first matching family wins. */
const PRICES: readonly { readonly family: string; readonly pattern: RegExp; readonly input: number; readonly output: number }[] = [
  { family: 'claude-haiku-4.5', pattern: /claude-haiku-4-5/, input: 1, output: 5 },
  { family: 'claude-3.5-haiku', pattern: /claude-3-5-haiku/, input: 0.8, output: 4 },
  { family: 'claude-3-haiku', pattern: /claude-3-haiku/, input: 0.25, output: 1.25 },
  { family: 'claude-opus-4.5', pattern: /claude-opus-4-5/, input: 5, output: 25 },
  { family: 'claude-opus', pattern: /claude-(opus-4|3-opus)/, input: 15, output: 75 },
  { family: 'claude-sonnet', pattern: /claude-(sonnet-4|3-7-sonnet|3-5-sonnet|3-sonnet)/, input: 3, output: 15 },
  { family: 'nova-micro', pattern: /nova-micro/, input: 0.035, output: 0.14 },
  { family: 'nova-lite', pattern: /nova-lite/, input: 0.06, output: 0.24 },
  { family: 'nova-pro', pattern: /nova-pro/, input: 0.8, output: 3.2 },
];

/** The price family of a model id, inference profile id or ARN; undefined when unknown. */
export function priceFamily(modelId: string): string | undefined {
  const id = modelId.toLowerCase();
  return PRICES.find((p) => p.pattern.test(id))?.family;
}

/**
 * Estimated cost in micro-dollars (integers add up exactly in the table). Unknown models cost 0 here: their
 * tokens are still counted and budgeted.
 */
export function estimateCostMicroUsd(modelId: string, usage: TokenUsage): number {
  const id = modelId.toLowerCase();
  const price = PRICES.find((p) => p.pattern.test(id));
  if (!price) return 0;
  return Math.round(usage.inputTokens * price.input + usage.outputTokens * price.output);
}
