import { loadSecrets, requireSecret } from '../runtime/env.ts';
import { deliveryErrorForStatus, TransientDeliveryError } from './errors.ts';
import type { NotificationSender, RenderedNotification } from './sender.ts';

// Slack through the platform's incoming webhook (the SLACK_WEBHOOK_URL secret). The URL is the credential: it
// never appears in an error, a log line or a returned value; failures name the status and Slack's short reason.

const TIMEOUT_MS = 10_000;

export const slackSender: NotificationSender = {
  channel: 'slack',
  async unavailable() {
    return (await loadSecrets()).SLACK_WEBHOOK_URL ? undefined : 'Slack delivery is not configured: the SLACK_WEBHOOK_URL secret is not set';
  },
  async send(notification: RenderedNotification) {
    const url = await requireSecret('SLACK_WEBHOOK_URL');
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: notification.subject, blocks: notification.blocks }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.name);
      throw new TransientDeliveryError(`slack delivery failed: network error (${why})`, 'slack');
    }
    const body = (await response.text().catch(() => '')).trim();
    if (!response.ok) throw deliveryErrorForStatus('slack', response.status, /^[\w .-]{1,80}$/.test(body) ? body : '');
  },
};
