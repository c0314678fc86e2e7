import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { countActivitySince } from '../db/activity.ts';
import { claimDeliveryTarget, releaseDeliveryTarget } from '../db/deliveries.ts';
import { allRepositoriesOf, autoScanRepositories, SEVERITIES, type SeverityCounts } from '../db/repositories.ts';
import { ENV } from '../platform/declarations.ts';
import { sqs } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';
import { NotificationSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';

// Mondays: one weekly report per user on the notifications queue. The users are those who asked CodeGuardian to
// watch something on their behalf (at least one repository with auto-scan on): the sparse auto-scan index names
// them without a table Scan. Each user's message is claimed under the schedule event's id, so a retried
// invocation does not send anyone a second report.

export interface WeeklyReportData {
  readonly repositories: number;
  readonly openBySeverity: SeverityCounts;
  readonly lowestSecurityScore: number | null;
  readonly scansCompleted: number;
  readonly since: string;
  readonly [key: string]: unknown;
}

/** What a user's weekly report says: open findings, the weakest repository score and the week's scans. */
export async function weeklyReportData(userId: string, now = new Date()): Promise<WeeklyReportData> {
  const since = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  const repos = await allRepositoriesOf(userId);
  const openBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, repos.reduce((n, r) => n + (r.counts?.open?.[s] ?? 0), 0)])) as SeverityCounts;
  const scores = repos.map((r) => r.securityScore).filter((s) => typeof s === 'number');
  return {
    repositories: repos.length,
    openBySeverity,
    lowestSecurityScore: scores.length > 0 ? Math.min(...scores) : null,
    scansCompleted: await countActivitySince(userId, 'scan_completed', since),
    since,
  };
}

export async function queueWeeklyReports(eventId: string, now = new Date()): Promise<{ queued: number; failed: number }> {
  const users = [...new Set((await autoScanRepositories()).map((r) => r.userId))];
  const claimId = `schedule-${eventId}`;
  let queued = 0;
  let failed = 0;
  for (const userId of users) {
    if (!(await claimDeliveryTarget(claimId, `USER#${userId}`))) continue;
    try {
      const message = v.parse(NotificationSchema, { userId, channel: 'email', kind: 'weekly-report', data: await weeklyReportData(userId, now) });
      await sqs.send(new SendMessageCommand({ QueueUrl: requireEnv(ENV.notificationsQueueUrl), MessageBody: JSON.stringify(message) }));
      queued++;
    } catch (error) {
      await releaseDeliveryTarget(claimId, `USER#${userId}`);
      logger.error('Weekly report not queued', { userId, error: error as Error });
      failed++;
    }
  }
  logger.info('Weekly reports', { users: users.length, queued, failed });
  return { queued, failed };
}
