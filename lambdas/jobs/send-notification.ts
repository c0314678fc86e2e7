import { queueConsumer } from '../../shared/http/presets.ts';
import { NotificationSchema } from '../../shared/runtime/jobs.ts';
import { pendingJob } from '../../shared/runtime/pending-work.ts';

/** notifications consumer: deliver one notification by email (SES) or Slack webhook. */
export const handler = queueConsumer(NotificationSchema, () => pendingJob('SendNotification'));
