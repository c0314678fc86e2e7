import * as v from 'valibot';
import { recordScanFailure } from '../../shared/db/jobs.ts';
import { workflowStep } from '../../shared/http/presets.ts';
import { publishToUser } from '../../shared/realtime/publish.ts';
import { CaughtErrorSchema, ScanStateSchema, failureReason } from '../../shared/runtime/jobs.ts';

const FailedScanSchema = v.looseObject({ ...ScanStateSchema.entries, ...CaughtErrorSchema.entries });

/** The scan workflow's catch: the scan is marked `failed` with the reason, then the owner gets `scan:failed`. */
export const handler = workflowStep(FailedScanSchema, async (input) => {
  const reason = failureReason(input.error);
  await recordScanFailure(input.scanId, reason);
  await publishToUser(input.userId, 'scan:failed', { scanId: input.scanId, repositoryId: input.repositoryId, reason });
  return { scanId: input.scanId, status: 'failed' as const, reason };
});
