import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: mark the scan completed, update scores and emit scan:completed. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('finish'));
