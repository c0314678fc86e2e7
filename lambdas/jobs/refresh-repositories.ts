import { scheduledJob } from '../../shared/http/presets.ts';
import { pendingJob } from '../../shared/runtime/pending-work.ts';

/** Schedule: refresh GitHub metadata and recalculate security scores. */
export const handler = scheduledJob(() => pendingJob('MetadataRefresh'));
