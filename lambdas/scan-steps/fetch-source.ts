import { workflowStep } from '../../shared/http/presets.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: download the repository at the commit (tarball API) into S3. */
export const handler = workflowStep(ScanStateSchema, () => pendingScanStep('fetchSource'));
