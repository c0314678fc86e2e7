// One interface for every notification channel, so the consumer neither knows nor cares how a channel delivers.

export type NotificationChannel = 'email' | 'slack';

/** A notification rendered for every channel: e-mail takes subject, text and HTML; Slack its Block Kit blocks. */
export interface RenderedNotification {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly blocks: readonly Record<string, unknown>[];
}

export interface Recipient {
  readonly userId: string;
  readonly email: string;
  readonly username?: string;
}

export interface NotificationSender {
  readonly channel: NotificationChannel;
  /** Why this deployment cannot deliver on this channel (nothing configured), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Delivers, or throws a DeliveryError saying whether a retry could help. */
  send(notification: RenderedNotification, recipient: Recipient): Promise<void>;
}
