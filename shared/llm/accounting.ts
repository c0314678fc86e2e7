/**
 * Where the model layer keeps its cache and counts its tokens. The table implementations are the platform's;
 * the in-memory ones serve the command-line scanner, which has no table, with the same budget semantics.
 */
import { getCachedModelResult, putCachedModelResult, type CachedModelResult } from '../db/model-cache.ts';
import {
  reserveModelTokens,
  settleModelTokens,
  usageDay,
  type ModelUsage,
  type SettledUsage,
  type UsageScope,
} from '../db/model-usage.ts';
import type { TokenBudgets } from './models.ts';

export type { UsageScope, SettledUsage };

export interface ModelResultCache {
  get(hash: string): Promise<CachedModelResult | undefined>;
  put(entry: Omit<CachedModelResult, 'createdAt'>, ttlSeconds: number): Promise<void>;
}

export interface UsageLedger {
  /** Reserve `tokens` against every budget of `scope`; false (and nothing reserved) when one would be exceeded. */
  reserve(scope: UsageScope, tokens: number, budgets: TokenBudgets, now: number): Promise<boolean>;
  /** Replace a reservation made at `now` by the real usage. */
  settle(scope: UsageScope, usage: SettledUsage, now: number): Promise<void>;
}

export const tableCache: ModelResultCache = { get: getCachedModelResult, put: putCachedModelResult };

export const tableLedger: UsageLedger = { reserve: reserveModelTokens, settle: settleModelTokens };

/** A process-local cache (the CLI), with the same TTL semantics. */
export function memoryCache(): ModelResultCache {
  const entries = new Map<string, { entry: CachedModelResult; expires: number }>();
  return {
    get: (hash) => {
      const hit = entries.get(hash);
      return Promise.resolve(hit && hit.expires > Date.now() ? hit.entry : undefined);
    },
    put: (entry, ttlSeconds) => {
      entries.set(entry.hash, { entry: { ...entry, createdAt: new Date().toISOString() }, expires: Date.now() + ttlSeconds * 1000 });
      return Promise.resolve();
    },
  };
}

/** A process-local ledger (the CLI): the same reserve-then-settle accounting, in memory. */
export function memoryLedger(): UsageLedger & { usage(key: string): ModelUsage } {
  const totals = new Map<string, ModelUsage>();
  const keys = (scope: UsageScope, now: number) => {
    const out: { key: string; budget: 'scanTokens' | 'dailyTokens' }[] = [];
    if (scope.scanId) out.push({ key: `scan:${scope.scanId}`, budget: 'scanTokens' });
    if (scope.userId) out.push({ key: `user:${scope.userId}:${usageDay(now)}`, budget: 'dailyTokens' });
    if (out.length === 0) throw new Error('Model usage needs a scanId or a userId to account to');
    return out;
  };
  const get = (key: string): ModelUsage => totals.get(key) ?? { tokens: 0, inputTokens: 0, outputTokens: 0, calls: 0, costMicroUsd: 0 };
  return {
    reserve: (scope, tokens, budgets, now) => {
      const list = keys(scope, now);
      if (list.some(({ key, budget }) => get(key).tokens + tokens > budgets[budget])) return Promise.resolve(false);
      for (const { key } of list) totals.set(key, { ...get(key), tokens: get(key).tokens + tokens });
      return Promise.resolve(true);
    },
    settle: (scope, usage, now) => {
      for (const { key } of keys(scope, now)) {
        const t = get(key);
        totals.set(key, {
          tokens: t.tokens + usage.inputTokens + usage.outputTokens - usage.reserved,
          inputTokens: t.inputTokens + usage.inputTokens,
          outputTokens: t.outputTokens + usage.outputTokens,
          calls: t.calls + (usage.called ? 1 : 0),
          costMicroUsd: t.costMicroUsd + usage.costMicroUsd,
        });
      }
      return Promise.resolve();
    },
    usage: get,
  };
}
