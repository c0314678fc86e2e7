import { deleteItem, expiresIn, getItem, isConditionFailure, putItem, updateItem, type Item } from './client.ts';

// GitHub webhook deliveries: one item per `X-GitHub-Delivery`, written with a conditional put so a redelivery
// is recognised, and per-target claims so the consumer acts on a delivery once per repository even when the
// queue hands it the message twice. GitHub redelivers for up to 3 days; the items live for 7.

export const DELIVERY_TTL_SECONDS = 7 * 24 * 3600;

export interface WebhookDelivery {
  readonly deliveryId: string;
  readonly event: string;
  readonly action?: string;
  readonly installationId?: number;
  readonly receivedAt: string;
  /** The gzip-compressed payload, when small enough to live in the item. */
  readonly payloadGzip?: Uint8Array;
  /** Otherwise the number of `PAYLOAD#nnnn` chunk items that hold it, in order. */
  readonly payloadChunks?: number;
  /** Set once the delivery is on the github-events queue. */
  readonly queuedAt?: string;
}

export const deliveryKey = (deliveryId: string) => ({ pk: `DELIVERY#${deliveryId}`, sk: 'DELIVERY' });
const claimKey = (deliveryId: string, target: string) => ({ pk: `DELIVERY#${deliveryId}`, sk: `CLAIM#${target}` });

/** Record a delivery unless its id was seen before: true when recorded now, false for a redelivery. */
export async function recordDelivery(delivery: WebhookDelivery, now = Date.now()): Promise<boolean> {
  try {
    await putItem({ ...deliveryKey(delivery.deliveryId), ...delivery, entity: 'WebhookDelivery', expiresAt: expiresIn(DELIVERY_TTL_SECONDS, now) }, { ifAbsent: true });
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** A recorded delivery (strongly consistent: the consumer reads it right after the receiver wrote it). */
export async function findDelivery(deliveryId: string): Promise<Item<WebhookDelivery> | undefined> {
  return getItem<WebhookDelivery>(deliveryKey(deliveryId), { consistent: true });
}

/** Note that the delivery's message is on the queue, so a redelivery is answered without queueing again. */
export async function markDeliveryQueued(deliveryId: string, at = new Date()): Promise<void> {
  await updateItem(deliveryKey(deliveryId), { queuedAt: at.toISOString() }, { ifExists: true });
}

/** Forget a delivery whose message could not be queued, so GitHub's redelivery is processed. */
export async function forgetDelivery(deliveryId: string): Promise<void> {
  await deleteItem(deliveryKey(deliveryId));
}

/** Claim the work of a delivery for one target (a repository): true for the first claim, false afterwards. */
export async function claimDeliveryTarget(deliveryId: string, target: string, now = Date.now()): Promise<boolean> {
  try {
    await putItem({ ...claimKey(deliveryId, target), entity: 'WebhookDeliveryClaim', claimedAt: new Date(now).toISOString(), expiresAt: expiresIn(DELIVERY_TTL_SECONDS, now) }, { ifAbsent: true });
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Give a claim back when its work failed and should be retried with the message. */
export async function releaseDeliveryTarget(deliveryId: string, target: string): Promise<void> {
  await deleteItem(claimKey(deliveryId, target));
}
