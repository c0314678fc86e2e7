/**
 * Scans whose workflow execution ended without running its catch: a whole-execution timeout, a stop, or a
 * failure of the catch itself. Step Functions reports such executions to EventBridge (the local runner calls the
 * same handler), and a scan still `queued` or `scanning` is marked `failed` so nothing stays `scanning` forever.
 */
import * as v from 'valibot';
import { failureReason, ScanStateSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { failScan } from './finish.ts';
import type { ExecutionEnded } from './state.ts';

const WHAT: Readonly<Record<ExecutionEnded['detail']['status'], string>> = {
  TIMED_OUT: 'timed out',
  ABORTED: 'was stopped',
  FAILED: 'failed',
};

export async function closeAbandonedScan(event: ExecutionEnded): Promise<{ scanId?: string; changed: boolean }> {
  const { detail } = event;
  let input: unknown;
  try {
    input = JSON.parse(detail.input ?? '');
  } catch {
    input = undefined;
  }
  const job = v.safeParse(ScanStateSchema, input);
  if (!job.success) {
    logger.warn('An ended scan execution carried no scan job', { executionArn: detail.executionArn });
    return { changed: false };
  }
  const cause = detail.error || detail.cause ? `: ${failureReason({ Error: detail.error ?? undefined, Cause: detail.cause ?? undefined })}` : '';
  const reason = `The scan workflow ${WHAT[detail.status]}${cause}`;
  const changed = await failScan(job.output, reason);
  return { scanId: job.output.scanId, changed };
}
