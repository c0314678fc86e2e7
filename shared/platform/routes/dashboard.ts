import * as v from 'valibot';
import type { RouteDecl } from '../declarations.ts';
import { Timestamp } from './repositories.ts';

export const ActivityQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,2}$/, 'limit must be a positive integer'), v.transform(Number), v.minValue(1), v.maxValue(50))),
  cursor: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(2048))),
});

export const TrendsQuery = v.object({ period: v.optional(v.picklist(['7d', '30d', '90d']), '30d') });

/** The first seed's "Dashboard Stats Response". */
export const DashboardStatsResponse = v.object({
  totalRepositories: v.number(),
  totalVulnerabilities: v.number(),
  criticalIssues: v.number(),
  autoFixedThisWeek: v.number(),
  overallSecurityScore: v.number(),
  riskScore: v.number(),
  scanningNow: v.number(),
  trends: v.object({ lastWeek: v.number(), lastMonth: v.number() }),
});

export const ActivityResponse = v.object({
  events: v.array(
    v.object({
      id: v.string(),
      type: v.string(),
      message: v.string(),
      repositoryId: v.nullable(v.string()),
      scanId: v.nullable(v.string()),
      vulnerabilityId: v.nullable(v.string()),
      data: v.record(v.string(), v.unknown()),
      createdAt: Timestamp,
    }),
  ),
  perPage: v.number(),
  nextCursor: v.nullable(v.string()),
});

const Point = v.object({ date: v.string(), critical: v.number(), high: v.number(), medium: v.number(), low: v.number(), info: v.number(), total: v.number() });
export const TrendsResponse = v.object({ period: v.picklist(['7d', '30d', '90d']), from: v.string(), to: v.string(), series: v.array(Point) });

export const RiskScoreResponse = v.object({
  score: v.number(),
  level: v.picklist(['low', 'medium', 'high', 'critical']),
  factors: v.array(v.object({ name: v.string(), value: v.number(), weight: v.number(), contribution: v.number(), description: v.string() })),
  repositories: v.number(),
  computedAt: Timestamp,
});

export const dashboardRoutes = [
  {
    method: 'GET', path: '/api/dashboard/stats', access: 'user', entry: 'lambdas/http/get-dashboard-stats.ts',
    summary: 'Totals, security and risk score, scans running and the week and month trend',
    schemas: { response: DashboardStatsResponse },
  },
  {
    method: 'GET', path: '/api/dashboard/activity', access: 'user', entry: 'lambdas/http/get-dashboard-activity.ts',
    summary: 'The latest 50 events of the caller, newest first',
    schemas: { query: ActivityQuery, response: ActivityResponse },
  },
  {
    method: 'GET', path: '/api/dashboard/trends', access: 'user', entry: 'lambdas/http/get-dashboard-trends.ts',
    summary: 'Open vulnerabilities per severity per day over 7, 30 or 90 days',
    schemas: { query: TrendsQuery, response: TrendsResponse },
  },
  {
    method: 'GET', path: '/api/dashboard/risk-score', access: 'user', entry: 'lambdas/http/get-dashboard-risk-score.ts',
    summary: 'Risk score (0-1) across the repositories, with its factors',
    schemas: { response: RiskScoreResponse },
  },
] as const satisfies readonly RouteDecl[];
