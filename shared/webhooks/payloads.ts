import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { WebhookDelivery } from '../db/deliveries.ts';
import { ENV } from '../platform/declarations.ts';
import { s3 } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';

// A delivery's payload is kept gzip-compressed: in the delivery item when it fits comfortably (most do: GitHub
// JSON compresses about tenfold), in the bucket otherwise. GitHub sends up to 25 MB, DynamoDB items hold 400 KB
// and queue messages 256 KB, so the queue message carries only a reference.

/** Compressed payloads up to this size live in the delivery item. */
export const INLINE_PAYLOAD_LIMIT = 256 * 1024;

export const payloadObjectKey = (deliveryId: string) => `webhooks/${deliveryId}.json.gz`;

/** `table:<deliveryId>` or `s3:<key>`: where the consumer finds the payload. */
export type PayloadRef = `table:${string}` | `s3:${string}`;

/** Compresses the payload and, when too large for the item, writes it to the bucket; returns the item fields and the reference. */
export async function storePayload(deliveryId: string, json: string): Promise<{ fields: Pick<WebhookDelivery, 'payloadGzip' | 'payloadKey'>; ref: PayloadRef }> {
  const compressed = gzipSync(Buffer.from(json, 'utf8'));
  if (compressed.length <= INLINE_PAYLOAD_LIMIT) return { fields: { payloadGzip: compressed }, ref: `table:${deliveryId}` };
  const key = payloadObjectKey(deliveryId);
  await s3.send(
    new PutObjectCommand({ Bucket: requireEnv(ENV.bucketName), Key: key, Body: compressed, ContentType: 'application/json', ContentEncoding: 'gzip', ServerSideEncryption: 'AES256' }),
  );
  return { fields: { payloadKey: key }, ref: `s3:${key}` };
}

/** The parsed payload of a recorded delivery. */
export async function loadPayload(delivery: Pick<WebhookDelivery, 'deliveryId' | 'payloadGzip' | 'payloadKey'>): Promise<unknown> {
  let compressed: Uint8Array;
  if (delivery.payloadGzip) {
    compressed = delivery.payloadGzip;
  } else if (delivery.payloadKey) {
    const answer = await s3.send(new GetObjectCommand({ Bucket: requireEnv(ENV.bucketName), Key: delivery.payloadKey }));
    compressed = await answer.Body!.transformToByteArray();
  } else {
    throw new Error(`Delivery ${delivery.deliveryId} has no stored payload`);
  }
  return JSON.parse(gunzipSync(compressed).toString('utf8')) as unknown;
}
