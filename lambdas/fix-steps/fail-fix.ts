import * as v from 'valibot';
import { failFixStep } from '../../shared/fix/workflow.ts';
import { workflowStep } from '../../shared/http/presets.ts';
import { CaughtErrorSchema, FixStateSchema, failureReason } from '../../shared/runtime/jobs.ts';

const FailedFixSchema = v.looseObject({ ...FixStateSchema.entries, ...CaughtErrorSchema.entries });

/** The fix workflow's catch: the fix job and the vulnerability's fix attempt are marked `failed` with the reason. */
export const handler = workflowStep(FailedFixSchema, async (input) => {
  const reason = failureReason(input.error);
  await failFixStep(input, reason);
  return { fixId: input.fixId, vulnerabilityId: input.vulnerabilityId, status: 'failed' as const, reason };
});
