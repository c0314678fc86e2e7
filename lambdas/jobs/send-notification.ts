import { queueConsumer } from '../../shared/http/presets.ts';
import { sendNotification } from '../../shared/jobs/notify.ts';
import { NotificationSchema } from '../../shared/runtime/jobs.ts';

/** notifications consumer: deliver one notification, or drop it with the reason logged when its channel is not configured. */
export const handler = queueConsumer(NotificationSchema, async (notification) => {
  await sendNotification(notification);
});
