import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: store findings and diff them against the previous scan. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('persist'));
