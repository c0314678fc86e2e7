import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { countActivitySince } from '../db/activity.ts';
import { claimDeliveryTarget, releaseDeliveryTarget } from '../db/deliveries.ts';
import { allRepositoriesOf, autoScanRepositories, SEVERITIES, type SeverityCounts } from '../db/repositories.ts';
import { dayOf, trendSnapshots } from '../db/trends.ts';
import { vulnerabilitiesOfRepository } from '../db/vulnerabilities.ts';
import { WeeklyReportSchema, type WeeklyReport } from '../notify/weekly-report.ts';
import { ENV } from '../platform/declarations.ts';
import { sqs } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';
import { NotificationSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';

// Mondays: one weekly report per user and channel on the notifications queue. The users are those who asked
// CodeGuardian to watch something on their behalf (at least one repository with auto-scan on): the sparse
// auto-scan index names them without a table Scan. Both channels are queued; the consumer drops a channel this
// deployment does not configure, with its reason logged. Each message is claimed under the schedule event's id,
// so a retried invocation does not send anyone a second report.

const CHANNELS = ['email', 'slack'] as const;
const AT_RISK_LIMIT = 10;

/** What a user's weekly report says (SPEC §7): open findings, the week's new and fixed ones, scores and trend. */
export async function weeklyReportData(userId: string, now = new Date()): Promise<WeeklyReport> {
  const since = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  const repos = await allRepositoriesOf(userId);
  const openBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, repos.reduce((n, r) => n + (r.counts?.open?.[s] ?? 0), 0)])) as SeverityCounts;
  const openTotal = SEVERITIES.reduce((n, s) => n + openBySeverity[s], 0);
  const scores = repos.map((r) => r.securityScore).filter((s) => typeof s === 'number');
  let newThisWeek = 0;
  let fixedThisWeek = 0;
  for (const repo of repos) {
    for (const finding of await vulnerabilitiesOfRepository(repo.id)) {
      if (finding.detectedAt >= since) newThisWeek++;
      if (finding.status === 'fixed' && finding.fixedAt !== undefined && finding.fixedAt >= since) fixedThisWeek++;
    }
  }
  const weekAgo = dayOf(new Date(since));
  const { before, inRange } = await trendSnapshots(userId, weekAgo, weekAgo);
  const openWeekAgo = (inRange[0] ?? before)?.total ?? 0;
  const atRisk = repos
    .filter((r) => typeof r.securityScore === 'number')
    .sort((a, b) => a.securityScore - b.securityScore || a.fullName.localeCompare(b.fullName))
    .slice(0, AT_RISK_LIMIT)
    .map((r) => ({ fullName: r.fullName, securityScore: r.securityScore, open: SEVERITIES.reduce((n, s) => n + (r.counts?.open?.[s] ?? 0), 0) }));
  return v.parse(WeeklyReportSchema, {
    repositories: repos.length,
    openBySeverity,
    newThisWeek,
    fixedThisWeek,
    securityScore: scores.length > 0 ? Math.round(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
    lowestSecurityScore: scores.length > 0 ? Math.min(...scores) : null,
    openChangeThisWeek: openTotal - openWeekAgo,
    scansCompleted: await countActivitySince(userId, 'scan_completed', since),
    since,
    atRisk,
  });
}

export async function queueWeeklyReports(eventId: string, now = new Date()): Promise<{ queued: number; failed: number }> {
  const users = [...new Set((await autoScanRepositories()).map((r) => r.userId))];
  const claimId = `schedule-${eventId}`;
  let queued = 0;
  let failed = 0;
  for (const userId of users) {
    let data: WeeklyReport | undefined;
    for (const channel of CHANNELS) {
      const target = `USER#${userId}#${channel}`;
      if (!(await claimDeliveryTarget(claimId, target))) continue;
      try {
        data ??= await weeklyReportData(userId, now);
        const message = v.parse(NotificationSchema, { userId, channel, kind: 'weekly-report', data });
        await sqs.send(new SendMessageCommand({ QueueUrl: requireEnv(ENV.notificationsQueueUrl), MessageBody: JSON.stringify(message) }));
        queued++;
      } catch (error) {
        await releaseDeliveryTarget(claimId, target);
        logger.error('Weekly report not queued', { userId, channel, error: error as Error });
        failed++;
      }
    }
  }
  logger.info('Weekly reports', { users: users.length, queued, failed });
  return { queued, failed };
}
