import { countFixPullRequestsSince, countOpenFixPullRequests } from '../db/fix-pull-requests.ts';
import { ConfigError } from '../runtime/env.ts';

// Per-repository caps on fix pull requests, so a repository is never flooded: how many may be open at once and
// how many may be opened per UTC day. Both count every fix pull request of the repository, whether requested
// through the API or queued by auto-fix.

export const FIX_LIMIT_ENV = {
  maxOpen: 'FIX_PR_MAX_OPEN',
  maxPerDay: 'FIX_PR_MAX_PER_DAY',
} as const;

export const DEFAULT_FIX_LIMITS = { maxOpen: 5, maxPerDay: 10 } as const;

export interface FixLimits {
  readonly maxOpen: number;
  readonly maxPerDay: number;
}

function limitFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`Environment variable ${name} must be a non-negative integer`);
  return value;
}

/** The limits in force: FIX_PR_MAX_OPEN (default 5) and FIX_PR_MAX_PER_DAY (default 10). */
export function fixLimits(): FixLimits {
  return {
    maxOpen: limitFromEnv(FIX_LIMIT_ENV.maxOpen, DEFAULT_FIX_LIMITS.maxOpen),
    maxPerDay: limitFromEnv(FIX_LIMIT_ENV.maxPerDay, DEFAULT_FIX_LIMITS.maxPerDay),
  };
}

export type LimitVerdict =
  | { readonly ok: true; readonly open: number; readonly today: number }
  | { readonly ok: false; readonly code: 'OPEN_FIX_PR_LIMIT' | 'DAILY_FIX_PR_LIMIT'; readonly reason: string; readonly retryAfterSeconds?: number };

/** Start of the UTC day of `now`. */
export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** Pure verdict from the counts, so the rule is testable without a table. */
export function judgeLimits(counts: { open: number; today: number }, limits: FixLimits, now = new Date()): LimitVerdict {
  if (counts.open >= limits.maxOpen) {
    return {
      ok: false,
      code: 'OPEN_FIX_PR_LIMIT',
      reason: `The repository already has ${counts.open} open fix pull request${counts.open === 1 ? '' : 's'} (limit ${limits.maxOpen}); merge or close one first`,
    };
  }
  if (counts.today >= limits.maxPerDay) {
    const tomorrow = startOfUtcDay(now).getTime() + 86_400_000;
    return {
      ok: false,
      code: 'DAILY_FIX_PR_LIMIT',
      reason: `The repository got ${counts.today} fix pull request${counts.today === 1 ? '' : 's'} today (limit ${limits.maxPerDay} per UTC day)`,
      retryAfterSeconds: Math.max(1, Math.ceil((tomorrow - now.getTime()) / 1000)),
    };
  }
  return { ok: true, ...counts };
}

/** Whether the repository may get one more fix pull request now. */
export async function checkFixLimits(repositoryId: string, now = new Date(), limits = fixLimits()): Promise<LimitVerdict> {
  const [open, today] = await Promise.all([
    countOpenFixPullRequests(repositoryId),
    countFixPullRequestsSince(repositoryId, startOfUtcDay(now).toISOString()),
  ]);
  return judgeLimits({ open, today }, limits, now);
}
