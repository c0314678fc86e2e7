import { workflowStep } from '../../shared/http/presets.ts';
import { FixWorkflowStateSchema, validateFixStep } from '../../shared/fix/workflow.ts';

/** Fix workflow step: the fixed file parses, the finding is gone and nothing new appears, or it is not proposed. */
export const handler = workflowStep(FixWorkflowStateSchema, (input) => validateFixStep(input));
