/**
 * Model token usage and its cost estimate, per scan and per user per UTC day, and the budgets on them. A call
 * first reserves its estimated tokens with a conditional write on both counters (so concurrent calls cannot
 * overspend together), then settles the difference once the real usage is known.
 */
import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { documentClient, getItem, isConditionFailure, queryAll, tableName, transactWrite, type TransactItem } from './client.ts';

/** Whose budget a call spends: the scan's, the user's daily one, or both. */
export interface UsageScope {
  readonly scanId?: string;
  readonly userId?: string;
}

export interface ModelUsage {
  /** Tokens counted against the budget: settled usage plus reservations of calls still running. */
  readonly tokens: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly calls: number;
  /** Estimated cost in micro-dollars (1e-6 USD). */
  readonly costMicroUsd: number;
}

export interface UserDayUsage extends ModelUsage {
  readonly day: string;
}

/** Per-day counters are kept for statistics this long. */
export const USAGE_RETENTION_DAYS = 400;

/** `2026-11-23`: the budget window of a moment, in UTC. */
export const usageDay = (now = Date.now()): string => new Date(now).toISOString().slice(0, 10);

const scanUsageKey = (scanId: string) => ({ pk: `SCAN#${scanId}`, sk: 'MODEL_USAGE' });
const userDayKey = (userId: string, day: string) => ({ pk: `USER#${userId}`, sk: `MODEL_USAGE#${day}` });

interface Counter {
  readonly key: { pk: string; sk: string };
  readonly limit: number;
  readonly extra: Record<string, string | number>;
}

function counters(scope: UsageScope, budgets: { scanTokens: number; dailyTokens: number }, now: number): Counter[] {
  const out: Counter[] = [];
  if (scope.scanId) out.push({ key: scanUsageKey(scope.scanId), limit: budgets.scanTokens, extra: { scanId: scope.scanId } });
  if (scope.userId) {
    const day = usageDay(now);
    const retention = Math.floor(now / 1000) + USAGE_RETENTION_DAYS * 86_400;
    out.push({ key: userDayKey(scope.userId, day), limit: budgets.dailyTokens, extra: { userId: scope.userId, day, expiresAt: retention } });
  }
  return out;
}

function setExtra(extra: Record<string, string | number>, names: Record<string, string>, values: Record<string, unknown>): string[] {
  return Object.entries(extra).map(([name, value], i) => {
    names[`#x${i}`] = name;
    values[`:x${i}`] = value;
    return `#x${i} = :x${i}`;
  });
}

/**
 * Reserve `tokens` on every counter of `scope`, all or nothing. False when any budget would be exceeded
 * (nothing is written then). An empty scope is refused: every call is accounted to someone.
 */
export async function reserveModelTokens(
  scope: UsageScope,
  tokens: number,
  budgets: { scanTokens: number; dailyTokens: number },
  now = Date.now(),
): Promise<boolean> {
  const list = counters(scope, budgets, now);
  if (list.length === 0) throw new Error('Model usage needs a scanId or a userId to account to');
  if (list.some((c) => c.limit < tokens)) return false;
  const items: TransactItem[] = list.map((c) => {
    const names: Record<string, string> = { '#t': 'tokens', '#e': 'entity' };
    const values: Record<string, unknown> = { ':n': tokens, ':entity': 'ModelUsage' };
    const sets = ['#e = :entity', ...setExtra(c.extra, names, values)];
    const limited = Number.isFinite(c.limit);
    if (limited) values[':max'] = c.limit - tokens;
    return {
      Update: {
        Key: c.key,
        UpdateExpression: `SET ${sets.join(', ')} ADD #t :n`,
        ...(limited ? { ConditionExpression: 'attribute_not_exists(#t) OR #t <= :max' } : {}),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  });
  // One counter: a single conditional update, atomic without a transaction.
  if (items.length === 1) {
    try {
      await documentClient.send(new UpdateCommand({ TableName: tableName(), ...(items[0]?.Update as object) } as UpdateCommandInput));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
  // Two counters: a transaction, retried when it collides with another call's transaction on the same item.
  for (let attempt = 1; ; attempt++) {
    try {
      await transactWrite(items);
      return true;
    } catch (error) {
      if (isBudgetRefusal(error)) return false;
      if (!isTransactionConflict(error) || attempt >= CONFLICT_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
    }
  }
}

const CONFLICT_RETRIES = 6;

function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  return reasons ? reasons.map((r) => r.Code ?? 'None') : [error.message];
}

function isTransactionConflict(error: unknown): boolean {
  return cancellationCodes(error)?.some((code) => /TransactionConflict/.test(code)) ?? false;
}

/** A cancelled transaction whose reason is a failed budget condition. */
function isBudgetRefusal(error: unknown): boolean {
  return cancellationCodes(error)?.some((code) => /ConditionalCheckFailed/.test(code)) ?? false;
}

export interface SettledUsage {
  /** What was reserved for the call. */
  readonly reserved: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costMicroUsd: number;
  /** False for a call that never reached the model (released reservation). */
  readonly called: boolean;
}

/** Replace a reservation by the real usage on every counter of `scope` (the reservation's day, `now`). */
export async function settleModelTokens(scope: UsageScope, usage: SettledUsage, now = Date.now()): Promise<void> {
  const actual = usage.inputTokens + usage.outputTokens;
  await Promise.all(
    counters(scope, { scanTokens: Infinity, dailyTokens: Infinity }, now).map((c) =>
      documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: c.key,
          UpdateExpression: 'ADD #t :delta, #i :i, #o :o, #c :c, #m :m',
          ExpressionAttributeNames: { '#t': 'tokens', '#i': 'inputTokens', '#o': 'outputTokens', '#c': 'calls', '#m': 'costMicroUsd' },
          ExpressionAttributeValues: {
            ':delta': actual - usage.reserved,
            ':i': usage.inputTokens,
            ':o': usage.outputTokens,
            ':c': usage.called ? 1 : 0,
            ':m': usage.costMicroUsd,
          },
        }),
      ),
    ),
  );
}

const EMPTY: ModelUsage = { tokens: 0, inputTokens: 0, outputTokens: 0, calls: 0, costMicroUsd: 0 };

function toUsage(item: Partial<ModelUsage> | undefined): ModelUsage {
  return {
    tokens: item?.tokens ?? 0,
    inputTokens: item?.inputTokens ?? 0,
    outputTokens: item?.outputTokens ?? 0,
    calls: item?.calls ?? 0,
    costMicroUsd: item?.costMicroUsd ?? 0,
  };
}

/** Model usage of one scan (scan detail). */
export async function scanModelUsage(scanId: string): Promise<ModelUsage> {
  return toUsage(await getItem<ModelUsage>(scanUsageKey(scanId), { consistent: true }));
}

/** Model usage of one user on one UTC day (the budget window). */
export async function userDayModelUsage(userId: string, day = usageDay()): Promise<ModelUsage> {
  return toUsage(await getItem<ModelUsage>(userDayKey(userId, day), { consistent: true }));
}

/** A user's daily usage for the days starting with `dayPrefix` (`2026-11` for a month), oldest first (statistics). */
export async function userModelUsageByDay(userId: string, dayPrefix = ''): Promise<UserDayUsage[]> {
  const items = await queryAll<ModelUsage & { day: string }>({ pk: `USER#${userId}`, skBeginsWith: `MODEL_USAGE#${dayPrefix}` });
  return items.map((item) => ({ ...toUsage(item), day: item.day }));
}

export { EMPTY as NO_MODEL_USAGE };

/** What the model pass of a scan did, kept beside its usage so the scan detail can say why triage stopped. */
export interface ScanModelPass {
  /**
   * `skipped`: no model configured. `budget_exhausted`: a token budget was spent and calls stopped; the rest of
   * the findings are untriaged. `partial`: some calls failed. `failed`: the pass itself could not run.
   */
  readonly status: 'complete' | 'partial' | 'budget_exhausted' | 'skipped' | 'failed';
  /** One sentence for people: what happened and what to do about it. */
  readonly message: string;
  readonly triaged: number;
  readonly cached: number;
  readonly failed: number;
  readonly notTriaged: number;
  /** Model-found findings from discovery in changed code. */
  readonly discovered: number;
  readonly at: string;
}

/** Record the model pass of a scan (one attribute on the scan's usage item). */
export async function recordScanModelPass(scanId: string, pass: ScanModelPass): Promise<void> {
  await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: scanUsageKey(scanId),
      UpdateExpression: 'SET #p = :p, #s = :s, #e = :e',
      ExpressionAttributeNames: { '#p': 'pass', '#s': 'scanId', '#e': 'entity' },
      ExpressionAttributeValues: { ':p': pass, ':s': scanId, ':e': 'ModelUsage' },
    }),
  );
}

/** Scan detail: the usage of a scan and what its model pass did (undefined when it never ran). */
export async function scanModelReport(scanId: string): Promise<{ usage: ModelUsage; pass: ScanModelPass | undefined } | undefined> {
  const item = await getItem<ModelUsage & { pass?: ScanModelPass }>(scanUsageKey(scanId), { consistent: true });
  return item ? { usage: toUsage(item), pass: item.pass } : undefined;
}
