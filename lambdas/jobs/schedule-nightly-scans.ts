import { scheduledJob } from '../../shared/http/presets.ts';
import { pendingJob } from '../../shared/runtime/pending-work.ts';

/** Schedule: queue a scan of every repository with auto-scan on. */
export const handler = scheduledJob(() => pendingJob('NightlyScans'));
