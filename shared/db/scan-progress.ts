import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../http/errors.ts';
import { documentClient, isConditionFailure, tableName, type Item } from './client.ts';
import { scanKey } from './jobs.ts';
import { updateRepositoryScanState } from './repositories.ts';
import type { Scan } from './scans.ts';

// The scan pipeline's own attributes of a scan item (`SCAN#<scanId>` / `SCAN`), beside the fields the API shows:
// how many files were found, analysed and served from the analysis cache, shard progress, percentage and duration.

export interface ScanPipelineFields {
  readonly commitSha?: string;
  /** Files of the archive the scan considered (after path filters). */
  readonly filesTotal?: number;
  /** Files sent to analysis (not in the analysis cache). */
  readonly filesToAnalyze?: number;
  /** Files whose results came from the analysis cache. */
  readonly filesCached?: number;
  /** Files analysed so far (incremented as shards finish). */
  readonly filesAnalyzed?: number;
  readonly shardsTotal?: number;
  readonly shardsDone?: number;
  /** 0–100, as last published in `scan:progress`. */
  readonly progressPercent?: number;
  readonly scanningAt?: string;
  readonly durationMs?: number;
}

export type PipelineScan = Item<Scan & ScanPipelineFields>;

async function update(
  scanId: string,
  expression: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  condition = 'attribute_exists(pk)',
): Promise<PipelineScan> {
  try {
    const answer = await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: scanKey(scanId),
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return answer.Attributes as PipelineScan;
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(`Scan ${scanId} does not exist or has already ended`);
    throw error;
  }
}

/** Set pipeline attributes of a scan (undefined values are left alone). */
export async function setScanFields(scanId: string, fields: ScanPipelineFields): Promise<PipelineScan> {
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':updatedAt': new Date().toISOString() };
  const parts = ['#updatedAt = :updatedAt'];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    parts.push(`#${name} = :${name}`);
  }
  return update(scanId, `SET ${parts.join(', ')}`, names, values);
}

/** The scan starts running: `scanning`, unless it already ended (a redelivered job); answers whether it started. */
export async function markScanning(scanId: string, now = new Date()): Promise<PipelineScan | undefined> {
  try {
    const scan = await update(
      scanId,
      'SET #status = :scanning, #updatedAt = :now, #scanningAt = if_not_exists(#scanningAt, :now), #progress.#cloned = :false',
      { '#status': 'status', '#updatedAt': 'updatedAt', '#scanningAt': 'scanningAt', '#progress': 'progress', '#cloned': 'cloned' },
      { ':scanning': 'scanning', ':now': now.toISOString(), ':false': false, ':queued': 'queued' },
      'attribute_exists(pk) AND (#status = :queued OR #status = :scanning)',
    );
    await updateRepositoryScanState(scan.repositoryId, { scanStatus: 'scanning', lastScanId: scanId });
    return scan;
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** One shard finished: its analysed files and the shard are counted atomically; answers the new totals. */
export async function recordShardDone(scanId: string, filesAnalyzed: number): Promise<PipelineScan> {
  return update(
    scanId,
    'ADD #filesAnalyzed :files, #shardsDone :one SET #updatedAt = :now',
    { '#filesAnalyzed': 'filesAnalyzed', '#shardsDone': 'shardsDone', '#updatedAt': 'updatedAt' },
    { ':files': filesAnalyzed, ':one': 1, ':now': new Date().toISOString() },
  );
}

/**
 * Mark a scan `failed` with its reason only while it is `queued` or `scanning`, so a completed scan is never
 * turned into a failed one; the repository's scan state follows. Answers whether the scan was changed.
 */
export async function failScanIfRunning(scanId: string, reason: string, step?: string, now = new Date()): Promise<PipelineScan | undefined> {
  let scan: PipelineScan;
  try {
    scan = await update(
      scanId,
      'SET #status = :failed, #failureReason = :reason, #failedAt = :now, #updatedAt = :now' + (step ? ', #failedStep = :step' : ''),
      {
        '#status': 'status',
        '#failureReason': 'failureReason',
        '#failedAt': 'failedAt',
        '#updatedAt': 'updatedAt',
        ...(step ? { '#failedStep': 'failedStep' } : {}),
      },
      { ':failed': 'failed', ':reason': reason, ':now': now.toISOString(), ':queued': 'queued', ':scanning': 'scanning', ...(step ? { ':step': step } : {}) },
      'attribute_exists(pk) AND (#status = :queued OR #status = :scanning)',
    );
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  await updateRepositoryScanState(scan.repositoryId, { scanStatus: 'failed', lastScanId: scanId }).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
  return scan;
}
