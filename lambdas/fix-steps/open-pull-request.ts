import { workflowStep } from '../../shared/http/presets.ts';
import { FixWorkflowStateSchema, openPullRequestStep } from '../../shared/fix/workflow.ts';

/** Fix workflow step: one commit on `codeguardian-fix-<vulnId>` and its pull request (or local branch). */
export const handler = workflowStep(FixWorkflowStateSchema, (input) => openPullRequestStep(input));
