import * as v from 'valibot';
import { workflowStep } from '../../shared/http/presets.ts';
import { failScan } from '../../shared/pipeline/finish.ts';
import { CaughtErrorSchema, ScanStateSchema, failureReason } from '../../shared/runtime/jobs.ts';

const FailedScanSchema = v.looseObject({ ...ScanStateSchema.entries, ...CaughtErrorSchema.entries });

/** The scan workflow's catch: the scan is marked `failed` with the reason (unless it already ended), then `scan:failed`. */
export const handler = workflowStep(FailedScanSchema, async (input) => {
  const reason = failureReason(input.error);
  await failScan(input, reason);
  return { scanId: input.scanId, status: 'failed' as const, reason };
});
