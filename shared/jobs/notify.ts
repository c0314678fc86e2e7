import * as v from 'valibot';
import { findUserById } from '../db/users.ts';
import type { NotificationSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';

// The notifications consumer. SPEC §7 names SES email and Slack webhooks as channels, but no setting gives this
// deployment an SES sender identity or anyone's Slack webhook URL (SPEC §3 lists every variable; user settings
// hold none). A notification that cannot be delivered is therefore dropped with its reason logged at warning
// level and the outcome returned, never reported as sent; retrying would not change the answer.

export type Notification = v.InferOutput<typeof NotificationSchema>;

export interface NotificationOutcome {
  readonly delivered: boolean;
  readonly reason?: string;
}

const UNDELIVERABLE: Readonly<Record<Notification['channel'], string>> = {
  email: 'email delivery is not configured: this deployment has no SES sender identity',
  slack: 'Slack delivery is not configured: no Slack webhook URL is set for this user',
};

export async function sendNotification(notification: Notification): Promise<NotificationOutcome> {
  const context = { userId: notification.userId, channel: notification.channel, kind: notification.kind };
  const user = await findUserById(notification.userId);
  const reason = user ? UNDELIVERABLE[notification.channel] : 'the user no longer exists';
  logger.warn('Notification dropped', { ...context, reason });
  return { delivered: false, reason };
}
