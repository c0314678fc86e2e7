import { workflowStep } from '../../shared/http/presets.ts';
import { FixStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingFixStep } from '../../shared/runtime/pending-work.ts';

/** Fix workflow step: check the fixed file parses, the finding is gone and nothing new appears. */
export const handler = workflowStep(FixStateSchema, () => pendingFixStep('validateFix'));
