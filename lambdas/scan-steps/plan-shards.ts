import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: split the fetched files into shards for the Map state. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('planShards'));
