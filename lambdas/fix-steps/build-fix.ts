import { workflowStep } from '../../shared/http/presets.ts';
import { buildFixStep, FixWorkflowStateSchema } from '../../shared/fix/workflow.ts';

/** Fix workflow step: the vulnerability's file at the base commit and its fix (rule rewrite, else the model's). */
export const handler = workflowStep(FixWorkflowStateSchema, (input) => buildFixStep(input));
