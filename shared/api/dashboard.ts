import { ACTIVITY_LIST_SIZE, listActivity } from '../db/activity.ts';
import { countFixPullRequestsSince } from '../db/fix-pull-requests.ts';
import { allRepositoriesOf, emptySeverityCounts, SEVERITIES, type Repository } from '../db/repositories.ts';
import { dayOf, trendSnapshots, type TrendSnapshot } from '../db/trends.ts';
import { riskScore } from '../domain/scores.ts';
import { toActivityResponse } from './mappers.ts';

const DAY_MS = 86_400_000;
export const TREND_PERIODS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type TrendPeriod = keyof typeof TREND_PERIODS;

function riskOf(repos: readonly Repository[]) {
  return riskScore(repos.map((r) => ({ counts: { ...r.counts.open }, staleHighOrCritical: r.staleHighOrCritical })));
}

/** Open vulnerabilities at the end of `day` from the snapshots (the latest one on or before it), 0 before any. */
async function openTotalOn(userId: string, day: string): Promise<number> {
  const { before, inRange } = await trendSnapshots(userId, day, day);
  return (inRange[0] ?? before)?.total ?? 0;
}

/** `GET /dashboard/stats`: the seed's Dashboard Stats, from the repositories' recomputed counters. */
export async function dashboardStats(userId: string, now = new Date()) {
  const repos = await allRepositoriesOf(userId);
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  const monthAgo = new Date(now.getTime() - 30 * DAY_MS);
  const [fixes, lastWeekTotal, lastMonthTotal] = await Promise.all([
    Promise.all(repos.map((r) => countFixPullRequestsSince(r.id, weekAgo.toISOString()))),
    openTotalOn(userId, dayOf(weekAgo)),
    openTotalOn(userId, dayOf(monthAgo)),
  ]);
  const totalVulnerabilities = repos.reduce((n, r) => n + r.totalVulnerabilities, 0);
  return {
    totalRepositories: repos.length,
    totalVulnerabilities,
    criticalIssues: repos.reduce((n, r) => n + r.criticalCount, 0),
    autoFixedThisWeek: fixes.reduce((a, b) => a + b, 0),
    overallSecurityScore: repos.length === 0 ? 100 : Math.round(repos.reduce((n, r) => n + r.securityScore, 0) / repos.length),
    riskScore: riskOf(repos).score,
    scanningNow: repos.filter((r) => r.scanStatus === 'queued' || r.scanStatus === 'scanning').length,
    trends: { lastWeek: totalVulnerabilities - lastWeekTotal, lastMonth: totalVulnerabilities - lastMonthTotal },
  };
}

/** `GET /dashboard/activity`: the latest events, newest first (at most 50 per page). */
export async function dashboardActivity(userId: string, query: { limit?: number; cursor?: string } | undefined) {
  const limit = Math.min(query?.limit ?? ACTIVITY_LIST_SIZE, ACTIVITY_LIST_SIZE);
  const page = await listActivity(userId, limit, query?.cursor);
  return { events: page.items.map(toActivityResponse), perPage: limit, nextCursor: page.nextCursor ?? null };
}

/**
 * `GET /dashboard/trends?period=`: one point per UTC day of open vulnerabilities by severity; a day without a
 * snapshot carries the previous day's figures (nothing changed that day).
 */
export async function dashboardTrends(userId: string, period: TrendPeriod, now = new Date()) {
  const days = TREND_PERIODS[period];
  const start = new Date(now.getTime() - (days - 1) * DAY_MS);
  const { before, inRange } = await trendSnapshots(userId, dayOf(start), dayOf(now));
  const byDay = new Map(inRange.map((s) => [s.date, s]));
  let last: Pick<TrendSnapshot, (typeof SEVERITIES)[number] | 'total'> = before ?? { ...emptySeverityCounts(), total: 0 };
  const series = [];
  for (let i = 0; i < days; i++) {
    const date = dayOf(new Date(start.getTime() + i * DAY_MS));
    last = byDay.get(date) ?? last;
    series.push({ date, critical: last.critical, high: last.high, medium: last.medium, low: last.low, info: last.info, total: last.total });
  }
  return { period, from: dayOf(start), to: dayOf(now), series };
}

/** `GET /dashboard/risk-score`: 0–1 with its factors (shared/domain/scores.ts). */
export async function dashboardRiskScore(userId: string) {
  const repos = await allRepositoriesOf(userId);
  const risk = riskOf(repos);
  return { score: risk.score, level: risk.level, factors: risk.factors.map((f) => ({ ...f })), repositories: repos.length, computedAt: new Date().toISOString() };
}
