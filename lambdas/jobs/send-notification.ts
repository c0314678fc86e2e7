import { queueConsumer } from '../../shared/http/presets.ts';
import { sendNotification } from '../../shared/jobs/notifications.ts';
import { NotificationSchema } from '../../shared/runtime/jobs.ts';

/** notifications consumer: deliver one notification; transient failures fail the record so the queue retries it. */
export const handler = queueConsumer(NotificationSchema, async (notification) => {
  await sendNotification(notification);
});
