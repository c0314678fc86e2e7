import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: model triage of the findings of every shard. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('triage'));
