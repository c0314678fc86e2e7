/**
 * Model tokens and their estimated cost as the API shows them: per scan in the scan detail, per user (today, the
 * last 30 days and per day) in the usage statistics.
 */
import { scanModelReport, usageDay, userModelUsageByDay, type ModelUsage } from '../db/model-usage.ts';
import { tokenBudgets } from '../llm/models.ts';

const DAY_MS = 86_400_000;

function usageView(u: Pick<ModelUsage, 'inputTokens' | 'outputTokens' | 'calls' | 'costMicroUsd'>) {
  return {
    inputTokens: u.inputTokens,
    outputTokens: u.outputTokens,
    totalTokens: u.inputTokens + u.outputTokens,
    calls: u.calls,
    estimatedCostUsd: u.costMicroUsd / 1_000_000,
  };
}

/** The scan detail's `model`: what the scan's model pass did and its tokens and cost; null before it ran. */
export async function scanModelSummary(scanId: string) {
  const report = await scanModelReport(scanId);
  if (!report) return null;
  const pass = report.pass;
  return {
    status: pass?.status ?? ('running' as const),
    message: pass?.message ?? 'The model pass is running.',
    triaged: pass?.triaged ?? 0,
    cachedAnswers: pass?.cached ?? 0,
    notTriaged: pass?.notTriaged ?? 0,
    discovered: pass?.discovered ?? 0,
    usage: usageView(report.usage),
  };
}

/** `GET /ai/usage`: a user's model usage today and over the last 30 days (and per day), with the daily budget. */
export async function userModelUsageSummary(userId: string, now = new Date()) {
  const today = usageDay(now.getTime());
  const since = usageDay(now.getTime() - 29 * DAY_MS);
  // Two month prefixes at most cover 30 days; each is one Query on the user's partition.
  const prefixes = [...new Set([since.slice(0, 7), today.slice(0, 7)])];
  const days = (await Promise.all(prefixes.map((p) => userModelUsageByDay(userId, p)))).flat().filter((d) => d.day >= since && d.day <= today);
  const sum = (list: typeof days) =>
    list.reduce((a, d) => ({ inputTokens: a.inputTokens + d.inputTokens, outputTokens: a.outputTokens + d.outputTokens, calls: a.calls + d.calls, costMicroUsd: a.costMicroUsd + d.costMicroUsd }), {
      inputTokens: 0,
      outputTokens: 0,
      calls: 0,
      costMicroUsd: 0,
    });
  const budget = tokenBudgets().dailyTokens;
  return {
    today: usageView(sum(days.filter((d) => d.day === today))),
    last30Days: usageView(sum(days)),
    dailyTokenBudget: Number.isFinite(budget) ? budget : null,
    days: days.sort((a, b) => a.day.localeCompare(b.day)).map((d) => ({ day: d.day, ...usageView(d) })),
  };
}
