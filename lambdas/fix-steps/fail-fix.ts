import * as v from 'valibot';
import { recordFixFailure } from '../../shared/db/jobs.ts';
import { workflowStep } from '../../shared/http/presets.ts';
import { CaughtErrorSchema, FixStateSchema, failureReason } from '../../shared/runtime/jobs.ts';

const FailedFixSchema = v.looseObject({ ...FixStateSchema.entries, ...CaughtErrorSchema.entries });

/** The fix workflow's catch: the fix job is marked `failed` with the reason, so the fix is never proposed. */
export const handler = workflowStep(FailedFixSchema, async (input) => {
  const reason = failureReason(input.error);
  await recordFixFailure(input.fixId, reason);
  return { fixId: input.fixId, vulnerabilityId: input.vulnerabilityId, status: 'failed' as const, reason };
});
