import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { verify } from '@octokit/webhooks-methods';
import * as v from 'valibot';
import { findDelivery, forgetDelivery, markDeliveryQueued, recordDelivery } from '../db/deliveries.ts';
import { AppError, BadRequestError, ServiceUnavailableError } from '../http/errors.ts';
import { ENV } from '../platform/declarations.ts';
import { WebhookAcceptedSchema } from '../platform/routes/webhooks.ts';
import { sqs } from '../runtime/clients.ts';
import { requireEnv, requireSecret } from '../runtime/env.ts';
import { GithubEventSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { storePayload } from './payloads.ts';

// POST /api/webhooks/github (and /github/pr): verify, record, enqueue, answer. Nothing is stored or queued
// before the signature checks out, and the work happens behind the github-events queue.

/** The raw request as the HTTP API hands it over: lower-case headers and the body exactly as sent. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface WebhookAnswer {
  readonly status: 200 | 202;
  readonly body: v.InferOutput<typeof WebhookAcceptedSchema>;
}

export class InvalidSignatureError extends AppError {
  constructor() {
    super(401, 'INVALID_SIGNATURE', 'The X-Hub-Signature-256 signature is missing or does not match the payload');
  }
}

/** GitHub's delivery ids are GUIDs; they also become table keys and object names. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,128}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

/** Constant-time check of `X-Hub-Signature-256` (`sha256=<hex HMAC of the raw body>`); false when missing or malformed. */
export async function isValidSignature(secret: string, rawBody: string, header: string | undefined): Promise<boolean> {
  if (!header || rawBody === '' || !header.startsWith('sha256=')) return false;
  return verify(secret, rawBody, header);
}

function rawBodyOf(request: WebhookRequest): string {
  if (request.body === undefined) return '';
  return request.isBase64Encoded ? Buffer.from(request.body, 'base64').toString('utf8') : request.body;
}

/** The JSON text of the payload: the body itself, or its `payload` field when GitHub sends form encoding. */
function payloadJson(rawBody: string, contentType: string | undefined): string {
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const field = new URLSearchParams(rawBody).get('payload');
    if (field === null) throw new BadRequestError('The form-encoded body has no payload field', 'INVALID_PAYLOAD');
    return field;
  }
  return rawBody;
}

function parsePayload(json: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new BadRequestError('The webhook payload is not valid JSON', 'INVALID_JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('The webhook payload must be a JSON object', 'INVALID_PAYLOAD');
  }
  return parsed as Record<string, unknown>;
}

export interface ReceiveOptions {
  /** Events this endpoint takes (besides `ping`); all when absent. */
  readonly events?: readonly string[];
}

/** Verify, record and enqueue one delivery. */
export async function receiveGithubWebhook(request: WebhookRequest, options: ReceiveOptions = {}): Promise<WebhookAnswer> {
  const secret = await requireSecret('GITHUB_WEBHOOK_SECRET');
  const raw = rawBodyOf(request);
  if (!(await isValidSignature(secret, raw, request.headers['x-hub-signature-256']))) {
    logger.warn('Webhook signature refused: if GitHub sent it, GITHUB_WEBHOOK_SECRET differs from the webhook secret in the App settings', {
      deliveryId: request.headers['x-github-delivery'],
      event: request.headers['x-github-event'],
      hasSignature: Boolean(request.headers['x-hub-signature-256']),
    });
    throw new InvalidSignatureError();
  }

  const deliveryId = request.headers['x-github-delivery'] ?? '';
  const event = request.headers['x-github-event'] ?? '';
  if (!DELIVERY_ID.test(deliveryId)) throw new BadRequestError('X-GitHub-Delivery is missing or malformed', 'INVALID_DELIVERY_ID');
  if (!EVENT_NAME.test(event)) throw new BadRequestError('X-GitHub-Event is missing or malformed', 'INVALID_EVENT');
  if (options.events && event !== 'ping' && !options.events.includes(event)) {
    throw new BadRequestError(`This endpoint takes ${options.events.join(', ')} events; send ${event} to /api/webhooks/github`, 'EVENT_NOT_ACCEPTED');
  }
  const json = payloadJson(raw, request.headers['content-type']);
  const payload = parsePayload(json);
  const action = typeof payload.action === 'string' ? payload.action : undefined;
  const installation = (payload.installation as { id?: unknown } | undefined)?.id;
  const installationId = Number.isSafeInteger(installation) ? (installation as number) : undefined;
  logger.appendKeys({ deliveryId, event });

  const { fields, ref } = await storePayload(deliveryId, json);
  const recorded = await recordDelivery({ deliveryId, event, action, installationId, receivedAt: new Date().toISOString(), ...fields });
  if (!recorded) {
    const existing = await findDelivery(deliveryId);
    if (existing?.queuedAt) {
      logger.info('Redelivered webhook ignored');
      return { status: 200, body: { deliveryId, event, status: 'duplicate' } };
    }
    // Recorded by an attempt that did not get as far as the queue: finish its work.
  }

  const message = v.parse(GithubEventSchema, { deliveryId, event, action, installationId, payloadRef: ref });
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: requireEnv(ENV.githubEventsQueueUrl), MessageBody: JSON.stringify(message) }));
  } catch (error) {
    logger.error('Could not queue the webhook delivery', { error: error as Error });
    // Without its message the record would turn GitHub's redelivery into a no-op: drop it.
    if (recorded) await forgetDelivery(deliveryId);
    throw new ServiceUnavailableError('The delivery could not be queued; redeliver it later', 'WEBHOOK_QUEUE_UNAVAILABLE');
  }
  await markDeliveryQueued(deliveryId);
  logger.info('Webhook queued', { action });
  return { status: 202, body: { deliveryId, event, status: 'queued' } };
}
