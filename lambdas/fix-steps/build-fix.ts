import { workflowStep } from '../../shared/http/presets.ts';
import { FixStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingFixStep } from '../../shared/runtime/pending-work.ts';

/** Fix workflow step: build the fix from the rule rewrite or the model. */
export const handler = workflowStep(FixStateSchema, () => pendingFixStep('buildFix'));
