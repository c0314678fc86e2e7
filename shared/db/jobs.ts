import { NotFoundError } from '../http/errors.ts';
import { isConditionFailure, updateItem } from './client.ts';

// Failure fields of scan and fix items; the rest of these entities is written by the scan and fix pipelines.

/** Key of a scan item. */
export const scanKey = (scanId: string) => ({ pk: `SCAN#${scanId}`, sk: 'SCAN' });
/** Key of a fix job item. */
export const fixKey = (fixId: string) => ({ pk: `FIX#${fixId}`, sk: 'FIX' });

async function markFailed(key: { pk: string; sk: string }, what: string, reason: string, step?: string): Promise<void> {
  try {
    await updateItem(
      key,
      { status: 'failed', failureReason: reason, failedStep: step, failedAt: new Date().toISOString() },
      { ifExists: true },
    );
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(`${what} does not exist`);
    throw error;
  }
}

/** Mark a scan `failed` with its reason (never leaves it `scanning`); 404 when there is no such scan. */
export async function recordScanFailure(scanId: string, reason: string, step?: string): Promise<void> {
  await markFailed(scanKey(scanId), `Scan ${scanId}`, reason, step);
}

/** Mark a fix job `failed` with its reason, so it is never proposed; 404 when there is no such fix job. */
export async function recordFixFailure(fixId: string, reason: string, step?: string): Promise<void> {
  await markFailed(fixKey(fixId), `Fix ${fixId}`, reason, step);
}
