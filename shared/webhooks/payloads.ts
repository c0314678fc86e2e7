import { gunzipSync, gzipSync } from 'node:zlib';
import { expiresIn, putItem, queryAll } from '../db/client.ts';
import { DELIVERY_TTL_SECONDS, type WebhookDelivery } from '../db/deliveries.ts';

// A delivery's payload is kept gzip-compressed in the table, so the webhook function needs nothing but the table
// and its queue: in the delivery item when it fits (most do: GitHub JSON compresses about tenfold), otherwise in
// chunk items beside it. GitHub sends up to 25 MB and API Gateway passes at most 10 MB, DynamoDB items hold
// 400 KB and queue messages 256 KB, so the queue message carries only a reference.

/** Compressed payloads up to this size live in the delivery item; larger ones in chunks of this size. */
export const PAYLOAD_CHUNK_BYTES = 300 * 1024;

const chunkKey = (deliveryId: string, index: number) => ({ pk: `DELIVERY#${deliveryId}`, sk: `PAYLOAD#${String(index).padStart(4, '0')}` });

/** `table:<deliveryId>`: where the consumer finds the payload. */
export type PayloadRef = `table:${string}`;

/** Compresses the payload, writes chunk items when it is too large for the delivery item, and returns the item fields. */
export async function storePayload(deliveryId: string, json: string, now = Date.now()): Promise<{ fields: Pick<WebhookDelivery, 'payloadGzip' | 'payloadChunks'>; ref: PayloadRef }> {
  const compressed = gzipSync(Buffer.from(json, 'utf8'));
  const ref: PayloadRef = `table:${deliveryId}`;
  if (compressed.length <= PAYLOAD_CHUNK_BYTES) return { fields: { payloadGzip: compressed }, ref };
  const count = Math.ceil(compressed.length / PAYLOAD_CHUNK_BYTES);
  for (let i = 0; i < count; i++) {
    const data = compressed.subarray(i * PAYLOAD_CHUNK_BYTES, (i + 1) * PAYLOAD_CHUNK_BYTES);
    await putItem({ ...chunkKey(deliveryId, i), entity: 'WebhookPayloadChunk', data, expiresAt: expiresIn(DELIVERY_TTL_SECONDS, now) });
  }
  return { fields: { payloadChunks: count }, ref };
}

/** The parsed payload of a recorded delivery. */
export async function loadPayload(delivery: Pick<WebhookDelivery, 'deliveryId' | 'payloadGzip' | 'payloadChunks'>): Promise<unknown> {
  let compressed: Uint8Array;
  if (delivery.payloadGzip) {
    compressed = delivery.payloadGzip;
  } else if (delivery.payloadChunks) {
    const chunks = await queryAll<{ data: Uint8Array }>({ pk: `DELIVERY#${delivery.deliveryId}`, skBeginsWith: 'PAYLOAD#' }, delivery.payloadChunks);
    if (chunks.length !== delivery.payloadChunks) throw new Error(`Delivery ${delivery.deliveryId} has ${chunks.length} of its ${delivery.payloadChunks} payload chunks`);
    compressed = Buffer.concat(chunks.map((c) => c.data));
  } else {
    throw new Error(`Delivery ${delivery.deliveryId} has no stored payload`);
  }
  return JSON.parse(gunzipSync(compressed).toString('utf8')) as unknown;
}
