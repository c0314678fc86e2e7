import type { NotificationChannel } from './sender.ts';

/**
 * A delivery that failed. Transient failures (5xx, 429 throttling, network) are thrown so the queue redelivers the
 * message and dead-letters it after its last receive; permanent ones (any other 4xx) are logged and dropped,
 * since sending the same request again cannot succeed.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly channel: NotificationChannel,
    readonly transient: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export class TransientDeliveryError extends DeliveryError {
  override readonly name = 'TransientDeliveryError';
  constructor(message: string, channel: NotificationChannel, status?: number) {
    super(message, channel, true, status);
  }
}

export class PermanentDeliveryError extends DeliveryError {
  override readonly name = 'PermanentDeliveryError';
  constructor(message: string, channel: NotificationChannel, status?: number) {
    super(message, channel, false, status);
  }
}

/** Whether an HTTP status is worth retrying: throttling and server errors are; every other 4xx is not. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The error for a non-2xx answer; `detail` is the service's own short reason, never the request. */
export function deliveryErrorForStatus(channel: NotificationChannel, status: number, detail: string): DeliveryError {
  const message = `${channel} delivery failed with HTTP ${status}${detail ? `: ${detail.slice(0, 200)}` : ''}`;
  return isTransientStatus(status) ? new TransientDeliveryError(message, channel, status) : new PermanentDeliveryError(message, channel, status);
}
