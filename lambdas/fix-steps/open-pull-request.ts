import { workflowStep } from '../../shared/http/presets.ts';
import { FixStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingFixStep } from '../../shared/runtime/pending-work.ts';

/** Fix workflow step: commit through the Git Data API and open the pull request. */
export const handler = workflowStep(FixStateSchema, () => pendingFixStep('openPullRequest'));
