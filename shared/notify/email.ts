import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { config } from '../runtime/env.ts';
import { PermanentDeliveryError, TransientDeliveryError } from './errors.ts';
import type { NotificationSender, Recipient, RenderedNotification } from './sender.ts';

// E-mail through SES v2 SendEmail from the NOTIFICATION_EMAIL_FROM identity to the user's registered address.
// The SDK does not retry here (maxAttempts 1): the notifications queue is the one retry mechanism, so a
// throttled or failing SES turns into redeliveries and, after the last, the dead-letter queue.

let client: SESv2Client | undefined;

function ses(): SESv2Client {
  client ??= new SESv2Client({ maxAttempts: 1 });
  return client;
}

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** SES answers: throttling, 5xx and no answer at all (network) are transient; other client faults are permanent. */
export function classifySesError(error: unknown): TransientDeliveryError | PermanentDeliveryError {
  const e = (error ?? {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  // SES quotes the addresses it refused; the reason is logged, so they are left out.
  const detail = e.message?.replace(/[^\s@<>"',;:]+@[^\s@<>"',;:]+/g, '<address>').slice(0, 200);
  const reason = `${e.name ?? 'Error'}${detail ? `: ${detail}` : ''}`;
  const throttled = status === 429 || e.name === 'TooManyRequestsException' || e.name === 'LimitExceededException';
  if (status === undefined || throttled || status >= 500 || e.$fault === 'server') {
    return new TransientDeliveryError(`email delivery failed${status ? ` with HTTP ${status}` : ''}: ${reason}`, 'email', status);
  }
  return new PermanentDeliveryError(`email delivery failed with HTTP ${status}: ${reason}`, 'email', status);
}

export const emailSender: NotificationSender = {
  channel: 'email',
  async unavailable() {
    return config().notificationEmailFrom ? undefined : 'email delivery is not configured: NOTIFICATION_EMAIL_FROM (the SES sender identity) is not set';
  },
  async send(notification: RenderedNotification, recipient: Recipient) {
    const from = config().notificationEmailFrom;
    if (!from) throw new PermanentDeliveryError('email delivery is not configured', 'email');
    const charset = 'UTF-8';
    try {
      await ses().send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [recipient.email] },
          Content: {
            Simple: {
              Subject: { Data: notification.subject, Charset: charset },
              Body: { Text: { Data: notification.text, Charset: charset }, Html: { Data: notification.html, Charset: charset } },
            },
          },
        }),
      );
    } catch (error) {
      throw classifySesError(error);
    }
  },
};

/** Drops the client so the next send reads its endpoint and region again (tests). */
export function resetEmailClient(): void {
  client?.destroy();
  client = undefined;
}
