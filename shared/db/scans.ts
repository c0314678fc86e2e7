import { NotFoundError } from '../http/errors.ts';
import type { PageRequest } from '../http/pagination.ts';
import type { ScanJob } from '../runtime/jobs.ts';
import { deleteItem, getItem, isConditionFailure, putItem, queryAll, transactWrite, updateItem, type Item, type TransactItem } from './client.ts';
import { queryCount, queryFilled, type Filter } from './bulk.ts';
import { scanKey } from './jobs.ts';
import { updateRepositoryScanState, type SeverityCounts } from './repositories.ts';

export const SCAN_STATUSES = ['queued', 'scanning', 'completed', 'failed'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** Steps of a scan, the second seed's `progress`. */
export interface ScanProgress {
  readonly cloned: boolean;
  readonly scanned: boolean;
  readonly issuesFound: number;
  readonly issuesFixed: number;
  readonly prCreated: boolean;
}

export interface ScanSummary extends SeverityCounts {
  readonly total: number;
  /** Vulnerabilities seen for the first time in this scan. */
  readonly new: number;
  /** Open vulnerabilities this scan no longer found. */
  readonly fixed: number;
}

export interface Scan {
  readonly id: string;
  readonly userId: string;
  readonly repositoryId: string;
  readonly repositoryName: string;
  readonly status: ScanStatus;
  readonly trigger: ScanJob['trigger'];
  readonly branch: string;
  readonly commitSha?: string;
  /** When the scan was requested (queued). */
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly completedAt: string | null;
  readonly progress: ScanProgress;
  readonly summary: ScanSummary | null;
  /** S3 keys of the written reports, by format. */
  readonly reports: { readonly json?: string; readonly sarif?: string };
  /** Name of the scan workflow execution that runs (or will run) it. */
  readonly executionId: string;
  readonly failureReason?: string;
}

export const INITIAL_PROGRESS: ScanProgress = { cloned: false, scanned: false, issuesFound: 0, issuesFixed: 0, prCreated: false };

function scanItem(scan: Scan) {
  return {
    ...scanKey(scan.id),
    ...scan,
    entity: 'Scan',
    gsi1pk: `USER#${scan.userId}#SCANS`,
    gsi1sk: `${scan.startedAt}#${scan.id}`,
    gsi2pk: `REPO#${scan.repositoryId}#SCANS`,
    gsi2sk: `${scan.startedAt}#${scan.id}`,
  };
}

/** True when a transaction was cancelled because the condition of its item at `index` failed. */
function failedConditionAt(error: unknown, index: number): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[index]?.Code === 'ConditionalCheckFailed';
}

/** A write that must happen together with the scan's (the quota charge), and the error its failed condition means. */
export interface Alongside {
  readonly item: TransactItem;
  readonly refused: () => Error;
}

/**
 * Record a new scan (`SCAN#<scanId>` / `SCAN`), never overwriting one. With `alongside`, both are written in one
 * transaction or neither is; `alongside.refused()` is thrown when its condition fails.
 */
export async function createScan(scan: Scan, alongside?: Alongside): Promise<void> {
  if (!alongside) {
    await putItem(scanItem(scan), { ifAbsent: true });
    return;
  }
  try {
    await transactWrite([alongside.item, { Put: { Item: scanItem(scan), ConditionExpression: 'attribute_not_exists(pk)' } }]);
  } catch (error) {
    if (failedConditionAt(error, 0)) throw alongside.refused();
    throw error;
  }
}

/** A scan by id, whoever owns it (pipeline side). */
export async function findScan(scanId: string): Promise<Item<Scan> | undefined> {
  return getItem<Scan>(scanKey(scanId));
}

/** A scan of `userId`; another user's id is answered exactly like a missing one. */
export async function getScan(userId: string, scanId: string): Promise<Item<Scan>> {
  const scan = await findScan(scanId);
  if (!scan || scan.userId !== userId) throw new NotFoundError('Scan not found');
  return scan;
}

export interface ScanFilters {
  readonly repositoryId?: string;
  readonly status?: ScanStatus;
}

/**
 * One page of a user's scans, newest first: gsi2 `REPO#<repoId>#SCANS` when filtered by a repository the caller
 * owns (checked by the caller), else gsi1 `USER#<uid>#SCANS`; the status is a filter.
 */
export async function listScans(userId: string, filters: ScanFilters, request: PageRequest, skip: number) {
  const key = filters.repositoryId
    ? ({ index: 'gsi2', pk: `REPO#${filters.repositoryId}#SCANS` } as const)
    : ({ index: 'gsi1', pk: `USER#${userId}#SCANS` } as const);
  const filter: Filter | undefined = filters.status
    ? { expression: '#status = :status', names: { '#status': 'status' }, values: { ':status': filters.status } }
    : undefined;
  const [page, total] = await Promise.all([
    queryFilled<Item<Scan>>({ ...key, filter, descending: true, limit: request.limit, skip, cursor: request.cursor }),
    queryCount({ ...key, filter }),
  ]);
  return { ...page, total };
}

/** Every scan of a repository (statistics, deletion). */
export async function scansOfRepository(repositoryId: string): Promise<Item<Scan>[]> {
  return queryAll<Scan>({ index: 'gsi2', pk: `REPO#${repositoryId}#SCANS` }, 100_000);
}

async function updateScan(scanId: string, set: Record<string, unknown>): Promise<Item<Scan>> {
  try {
    return await updateItem<Scan>(scanKey(scanId), { ...set, updatedAt: new Date().toISOString() }, { ifExists: true });
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(`Scan ${scanId} does not exist`);
    throw error;
  }
}

/** Record a scan's progress (and its status, e.g. `scanning`) as the pipeline advances. */
export async function updateScanProgress(scanId: string, progress: Partial<ScanProgress>, status?: ScanStatus): Promise<Item<Scan>> {
  const current = await findScan(scanId);
  if (!current) throw new NotFoundError(`Scan ${scanId} does not exist`);
  const updated = await updateScan(scanId, { progress: { ...current.progress, ...progress }, status });
  if (status === 'scanning') await updateRepositoryScanState(current.repositoryId, { scanStatus: 'scanning', lastScanId: scanId });
  return updated;
}

/** Mark a scan completed with its summary and report keys, and its repository's last scan. */
export async function completeScan(scanId: string, summary: ScanSummary, reports: Scan['reports'], now = new Date()): Promise<Item<Scan>> {
  const current = await findScan(scanId);
  if (!current) throw new NotFoundError(`Scan ${scanId} does not exist`);
  const updated = await updateScan(scanId, {
    status: 'completed',
    completedAt: now.toISOString(),
    summary,
    reports: { ...current.reports, ...reports },
    progress: { ...current.progress, cloned: true, scanned: true, issuesFound: summary.total },
  });
  await updateRepositoryScanState(current.repositoryId, { scanStatus: 'completed', lastScanId: scanId, lastScanAt: updated.completedAt ?? now.toISOString() });
  return updated;
}

/**
 * Remove a scan that could not be queued, so no scan stays `queued` forever, together with `alongside` (giving
 * its quota back) in one transaction. Should that write's condition fail, the scan is still removed.
 */
export async function deleteScan(scanId: string, alongside?: TransactItem): Promise<void> {
  if (alongside) {
    try {
      await transactWrite([{ Delete: { Key: scanKey(scanId) } }, alongside]);
      return;
    } catch (error) {
      if (!failedConditionAt(error, 1)) throw error;
    }
  }
  await deleteItem(scanKey(scanId));
}
