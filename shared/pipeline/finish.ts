/**
 * The finish step and the scan's start and failure: status, activity timeline and live events. A completed
 * default-branch scan of a repository with auto-fix on queues fixes for its new fixable findings within the
 * repository's fix limits; a pull request scan publishes its check run with the findings new in the pull request.
 */
import { recordActivity } from '../db/activity.ts';
import { findRepository } from '../db/repositories.ts';
import { failScanIfRunning, markScanning, setScanFields, type PipelineScan } from '../db/scan-progress.ts';
import { completeScan, findScan, type Scan, type ScanSummary } from '../db/scans.ts';
import { getVulnerability, type Vulnerability } from '../db/vulnerabilities.ts';
import { queueAutoFixes } from '../fix/request.ts';
import { publishPullRequestCheck } from '../github/checks.ts';
import { NotFoundError } from '../http/errors.ts';
import { publishToUser } from '../realtime/publish.ts';
import type { ScanState } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { ScanRefusedError } from './errors.ts';
import type { ScanFinding } from './findings-store.ts';
import { publishProgress, type ScanRef } from './progress.ts';
import { requireJson } from './storage.ts';

/** The scan starts: `scanning`, `scan:started`. A scan that already ended (a redelivered job) is refused. */
export async function startScan(state: ScanState): Promise<PipelineScan> {
  const scan = await markScanning(state.scanId);
  if (!scan) {
    const existing = await findScan(state.scanId);
    if (!existing) throw new ScanRefusedError(`Scan ${state.scanId} does not exist`, 'SCAN_NOT_FOUND');
    throw new ScanRefusedError(`Scan ${state.scanId} has already ended (${existing.status})`, 'SCAN_ENDED');
  }
  await publishToUser(state.userId, 'scan:started', {
    scanId: state.scanId,
    repositoryId: state.repositoryId,
    repositoryName: scan.repositoryName,
    branch: scan.branch,
    trigger: scan.trigger,
  });
  await publishProgress(state, 'fetchSource', 0);
  return scan;
}

export interface FinishInput extends ScanRef {
  readonly summary: ScanSummary;
  readonly reports: Scan['reports'];
  readonly commitSha?: string;
  readonly persisted: boolean;
  readonly fixCandidates: readonly string[];
  readonly pullRequestNumber?: number;
  /** PR and branch scans: the findings new relative to the default branch. */
  readonly newFindingsKey?: string;
}

/** A pull request scan of a GitHub repository: the check run with the new findings as annotations. */
async function publishCheck(input: FinishInput): Promise<boolean> {
  if (input.pullRequestNumber === undefined || !input.newFindingsKey || !input.commitSha) return false;
  const repo = await findRepository(input.repositoryId);
  if (repo?.provider !== 'github' || !repo.installationId) return false;
  const newFindings = await requireJson<ScanFinding[]>(input.newFindingsKey);
  await publishPullRequestCheck({ installationId: repo.installationId, owner: repo.owner, repo: repo.name, headSha: input.commitSha, scanId: input.scanId, newFindings });
  return true;
}

export interface FinishResult {
  readonly durationMs: number;
  readonly fixesQueued: number;
  readonly checkPublished: boolean;
}

async function autoFix(input: FinishInput): Promise<number> {
  if (!input.persisted || input.fixCandidates.length === 0) return 0;
  const repo = await findRepository(input.repositoryId);
  if (!repo?.autoFixEnabled) return 0;
  const vulnerabilities: Vulnerability[] = [];
  for (const id of input.fixCandidates) {
    try {
      vulnerabilities.push(await getVulnerability(repo.userId, id));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return (await queueAutoFixes(repo, vulnerabilities)).length;
}

export async function finishScan(input: FinishInput, now = new Date()): Promise<FinishResult> {
  const scan = (await findScan(input.scanId)) as PipelineScan | undefined;
  if (!scan) throw new ScanRefusedError(`Scan ${input.scanId} does not exist`, 'SCAN_NOT_FOUND');
  const durationMs = Math.max(0, now.getTime() - Date.parse(scan.scanningAt ?? scan.startedAt));
  // Before completing: a check that could not be published fails the step, which is retried (publishing is idempotent).
  const checkPublished = await publishCheck(input);
  await completeScan(input.scanId, input.summary, input.reports, now);
  await setScanFields(input.scanId, { durationMs, progressPercent: 100, commitSha: input.commitSha });
  const { summary } = input;
  await recordActivity(input.userId, {
    type: 'scan_completed',
    message: `Scan of ${scan.repositoryName} completed: ${summary.total} finding${summary.total === 1 ? '' : 's'} (${summary.new} new, ${summary.fixed} fixed)`,
    repositoryId: input.repositoryId,
    scanId: input.scanId,
    data: { ...summary, durationMs, branch: scan.branch, trigger: scan.trigger },
  });
  let fixesQueued = 0;
  try {
    fixesQueued = await autoFix(input);
  } catch (error) {
    // The scan itself is complete; fixes can still be asked for by hand.
    logger.error('Could not queue automatic fixes', { scanId: input.scanId, error: error as Error });
  }
  await publishToUser(input.userId, 'scan:completed', {
    scanId: input.scanId,
    repositoryId: input.repositoryId,
    status: 'completed',
    summary,
    durationMs,
    reportFormats: Object.keys(input.reports),
    fixesQueued,
  });
  return { durationMs, fixesQueued, checkPublished };
}

/**
 * A scan that failed for good: `failed` with the reason (only if it was still queued or scanning), the
 * repository's scan state, an activity entry and `scan:failed`. Answers whether the scan was changed.
 */
export async function failScan(scan: ScanRef, reason: string, step?: string): Promise<boolean> {
  const failed = await failScanIfRunning(scan.scanId, reason, step);
  if (!failed) return false;
  await recordActivity(scan.userId, {
    type: 'scan_failed',
    message: `Scan of ${failed.repositoryName} failed: ${reason.slice(0, 200)}`,
    repositoryId: scan.repositoryId,
    scanId: scan.scanId,
    data: { reason, ...(step ? { step } : {}) },
  });
  await publishToUser(scan.userId, 'scan:failed', { scanId: scan.scanId, repositoryId: scan.repositoryId, reason });
  return true;
}
