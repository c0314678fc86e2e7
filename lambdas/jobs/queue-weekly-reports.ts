import { scheduledJob } from '../../shared/http/presets.ts';
import { pendingJob } from '../../shared/runtime/pending-work.ts';

/** Schedule: queue each user's weekly report on the notifications queue. */
export const handler = scheduledJob(() => pendingJob('WeeklyReport'));
