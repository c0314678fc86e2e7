import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: write the JSON and SARIF reports to S3. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('report'));
