import { queueScan } from '../api/scans.ts';
import { claimDeliveryTarget, releaseDeliveryTarget } from '../db/deliveries.ts';
import { hasRepositoryAccess } from '../db/installations.ts';
import { autoScanRepositories, type Repository } from '../db/repositories.ts';
import { findUserById } from '../db/users.ts';
import { AppError } from '../http/errors.ts';
import { logger } from '../runtime/powertools.ts';

// The daily scan of every repository with auto-scan on. Each repository's scan is claimed under the schedule
// event's id before it is queued, so a retried invocation (EventBridge retries with the same event) queues only
// what the failed one did not. One user's failure, or quota, does not stop the others.

export interface NightlyResult {
  readonly queued: number;
  /** Not scanned on purpose: quota reached, no access, a scan already waiting, already done by this event. */
  readonly skipped: number;
  readonly failed: number;
}

/** A scan that is already waiting or running makes another one pointless. */
const busy = (repo: Repository) => repo.scanStatus === 'queued' || repo.scanStatus === 'scanning';

export async function scheduleNightlyScans(eventId: string): Promise<NightlyResult> {
  const byUser = new Map<string, Repository[]>();
  for (const repo of await autoScanRepositories()) byUser.set(repo.userId, [...(byUser.get(repo.userId) ?? []), repo]);
  let queued = 0;
  let skipped = 0;
  let failed = 0;
  const claimId = `schedule-${eventId}`;
  for (const [userId, repos] of byUser) {
    try {
      const user = await findUserById(userId);
      if (!user) {
        skipped += repos.length;
        continue;
      }
      for (const [index, repo] of repos.entries()) {
        if (!hasRepositoryAccess(repo) || busy(repo) || !(await claimDeliveryTarget(claimId, `REPO#${repo.id}`))) {
          skipped++;
          continue;
        }
        try {
          await queueScan({ userId, subscription: user.subscription }, repo, { trigger: 'scheduled' });
          queued++;
        } catch (error) {
          if (error instanceof AppError && error.status === 429) {
            // The user's daily quota is spent: this repository and the rest of theirs wait for tomorrow.
            logger.warn('Nightly scans stopped at the daily quota', { userId, notQueued: repos.length - index });
            skipped += repos.length - index;
            break;
          }
          await releaseDeliveryTarget(claimId, `REPO#${repo.id}`);
          logger.error('Nightly scan not queued', { userId, repositoryId: repo.id, error: error as Error });
          failed++;
        }
      }
    } catch (error) {
      logger.error('Nightly scans of a user failed', { userId, error: error as Error });
      failed += repos.length;
    }
  }
  const result = { queued, skipped, failed };
  logger.info('Nightly scans', { ...result });
  return result;
}
