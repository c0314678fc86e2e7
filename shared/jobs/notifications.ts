import * as v from 'valibot';
import { findUserById } from '../db/users.ts';
import { emailSender } from '../notify/email.ts';
import { DeliveryError } from '../notify/errors.ts';
import type { NotificationChannel, NotificationSender, RenderedNotification } from '../notify/sender.ts';
import { slackSender } from '../notify/slack.ts';
import { renderWeeklyReport, WeeklyReportSchema } from '../notify/weekly-report.ts';
import type { NotificationSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';

// The notifications consumer: render the notification, hand it to its channel's sender. Outcomes:
// - delivered;
// - dropped with its reason logged: the channel is not configured here, the user is gone, the message cannot be
//   rendered, or the channel refused it permanently (a 4xx other than 429); a retry could not change these;
// - thrown: a transient failure (5xx, throttling, network), so the queue redelivers and finally dead-letters it.

export type Notification = v.InferOutput<typeof NotificationSchema>;

export interface NotificationOutcome {
  readonly delivered: boolean;
  readonly reason?: string;
}

const SENDERS: Readonly<Record<NotificationChannel, NotificationSender>> = { email: emailSender, slack: slackSender };

function render(notification: Notification, recipientName: string | undefined): RenderedNotification | string {
  if (notification.kind !== 'weekly-report') return `no message template for ${notification.kind} notifications`;
  const report = v.safeParse(WeeklyReportSchema, notification.data);
  if (!report.success) return `the weekly report data is malformed: ${v.summarize(report.issues).split('\n')[0]}`;
  return renderWeeklyReport(report.output, recipientName);
}

export async function sendNotification(notification: Notification, senders = SENDERS): Promise<NotificationOutcome> {
  const context = { userId: notification.userId, channel: notification.channel, kind: notification.kind };
  const sender = senders[notification.channel];
  const drop = (reason: string): NotificationOutcome => {
    logger.warn('Notification dropped', { ...context, reason });
    return { delivered: false, reason };
  };

  const unavailable = await sender.unavailable();
  if (unavailable) return drop(unavailable);
  const user = await findUserById(notification.userId);
  if (!user) return drop('the user no longer exists');
  const rendered = render(notification, user.username);
  if (typeof rendered === 'string') return drop(rendered);

  try {
    await sender.send(rendered, { userId: user.id, email: user.email, username: user.username });
  } catch (error) {
    if (error instanceof DeliveryError && !error.transient) return drop(error.message);
    throw error;
  }
  logger.info('Notification delivered', context);
  return { delivered: true };
}
