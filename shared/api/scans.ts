import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { recordActivity } from '../db/activity.ts';
import { getRepository, updateRepositoryScanState, type Repository } from '../db/repositories.ts';
import { scanQuotaCharge, scanQuotaRefund } from '../db/scan-quota.ts';
import { createScan, deleteScan, getScan, INITIAL_PROGRESS, listScans, type Scan, type ScanStatus } from '../db/scans.ts';
import type { AuthUser } from '../http/auth.ts';
import { AppError, BadRequestError, NotFoundError, ServiceUnavailableError } from '../http/errors.ts';
import { listBody, offsetOf, pageRequest, type PaginationInput } from '../http/pagination.ts';
import { ENV } from '../platform/declarations.ts';
import { sqs } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';
import { ScanJobSchema, type ScanJob } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { toScanResponse } from './mappers.ts';
import { scanModelSummary } from './model-usage.ts';
import { readScanReport, reportContentType, type ReportFormat } from './scan-reports.ts';

export interface ScanRequest {
  readonly trigger: ScanJob['trigger'];
  readonly branch?: string;
  /** The exact commit to scan (pushes and pull requests); the branch head when absent. */
  readonly commitSha?: string;
  readonly pullRequestNumber?: number;
  readonly baseSha?: string;
}

/** The item of a scan that is about to be queued: `queued`, with no progress, summary or reports yet. */
export function newQueuedScan(userId: string, repo: Repository, request: ScanRequest, now = new Date().toISOString()): Scan {
  const id = randomUUID();
  return {
    id,
    userId,
    repositoryId: repo.id,
    repositoryName: repo.fullName,
    status: 'queued',
    trigger: request.trigger,
    branch: request.branch ?? repo.defaultBranch,
    ...(request.commitSha ? { commitSha: request.commitSha } : {}),
    startedAt: now,
    updatedAt: now,
    completedAt: null,
    progress: INITIAL_PROGRESS,
    summary: null,
    reports: {},
    executionId: `scan-${id}`,
  };
}

/**
 * Queue a scan of a repository the caller owns, all or nothing: the scan item (`queued`) and one unit of the
 * tier's daily quota are written in one transaction, then the job goes on the scan-jobs queue. If the job cannot
 * be queued, the scan item is deleted and the quota given back in one transaction, so no scan waits forever and
 * none is counted that never ran. Only then do the repository's scan state and the activity feed change.
 */
export async function queueScan(user: Pick<AuthUser, 'userId' | 'subscription'>, repo: Repository, request: ScanRequest): Promise<Scan> {
  const quota = scanQuotaCharge(user.userId, user.subscription);
  const now = new Date().toISOString();
  const scan = newQueuedScan(user.userId, repo, request, now);
  const id = scan.id;
  const job: ScanJob = v.parse(ScanJobSchema, {
    scanId: id,
    repositoryId: repo.id,
    userId: user.userId,
    trigger: request.trigger,
    branch: scan.branch,
    commitSha: request.commitSha,
    pullRequestNumber: request.pullRequestNumber,
    baseSha: request.baseSha,
  });
  await createScan(scan, quota.item ? { item: quota.item, refused: quota.exceeded } : undefined);
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: requireEnv(ENV.scanJobsQueueUrl), MessageBody: JSON.stringify(job) }));
  } catch (error) {
    logger.error('Could not queue the scan job', { scanId: id, error: error as Error });
    try {
      await deleteScan(id, quota.charge ? scanQuotaRefund(quota.charge) : undefined);
    } catch (cleanup) {
      logger.error('Could not remove the scan that was not queued', { scanId: id, error: cleanup as Error });
    }
    throw new ServiceUnavailableError('The scan could not be queued; try again later', 'SCAN_QUEUE_UNAVAILABLE');
  }
  await updateRepositoryScanState(repo.id, { scanStatus: 'queued', lastScanId: id });
  await recordActivity(user.userId, { type: 'scan_queued', message: `Scan of ${repo.fullName} queued`, repositoryId: repo.id, scanId: id, data: { trigger: request.trigger } });
  return scan;
}

/** `POST /repositories/:id/scan` → 202 with the scan. */
export async function startRepositoryScan(user: AuthUser, repositoryId: string, branch: string | undefined) {
  const repo = await getRepository(user.userId, repositoryId);
  const scan = await queueScan(user, repo, { trigger: 'manual', branch });
  return { status: 202, body: toScanResponse(scan) };
}

/**
 * `POST /scans/bulk`: every repository is checked for ownership before anything is queued (one foreign or
 * missing id → 404, nothing queued); then one scan per repository while the quota lasts. Repositories past the
 * quota are listed as rejected; when none could be queued the quota error itself is the answer.
 */
export async function startBulkScans(user: AuthUser, repositoryIds: readonly string[]) {
  const repos = await Promise.all(repositoryIds.map((id) => getRepository(user.userId, id)));
  const scans: Scan[] = [];
  const rejected: { repositoryId: string; error: string; code: string }[] = [];
  let firstError: unknown;
  for (const repo of repos) {
    try {
      scans.push(await queueScan(user, repo, { trigger: 'bulk' }));
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 429) throw error;
      firstError ??= error;
      rejected.push({ repositoryId: repo.id, error: error.message, code: error.code });
    }
  }
  if (scans.length === 0 && firstError) throw firstError;
  return { status: 202, body: { scans: scans.map(toScanResponse), rejected } };
}

export async function listScansOf(userId: string, query: PaginationInput & { repositoryId?: string; status?: ScanStatus }) {
  const request = pageRequest(query);
  if (query?.repositoryId) await getRepository(userId, query.repositoryId);
  const page = await listScans(userId, { repositoryId: query?.repositoryId, status: query?.status }, request, offsetOf(request));
  return listBody('scans', page.items.map(toScanResponse), request, page.total, page.nextCursor);
}

/** `GET /scans/:id`: the scan, with what its model pass did and its tokens and estimated cost. */
export async function scanDetail(userId: string, scanId: string) {
  const scan = await getScan(userId, scanId);
  return { ...toScanResponse(scan), model: await scanModelSummary(scan.id) };
}

/** `GET /scans/:id/report?format=json|sarif`: the stored report, 404 REPORT_NOT_READY until it is written. */
export async function scanReport(userId: string, scanId: string, format: ReportFormat | 'pdf') {
  const scan = await getScan(userId, scanId);
  if (format === 'pdf') throw new BadRequestError('PDF reports are not available yet; use json or sarif', 'UNSUPPORTED_FORMAT');
  const key = scan.reports?.[format];
  const text = key === undefined ? undefined : await readScanReport(key);
  if (text === undefined) throw new NotFoundError(`The ${format} report of this scan is not ready`, 'REPORT_NOT_READY', { scanStatus: scan.status });
  return { status: 200, body: JSON.parse(text) as unknown, headers: { 'Content-Type': `${reportContentType(format)}; charset=utf-8` } };
}
