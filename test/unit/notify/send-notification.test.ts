import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SQSBatchResponse } from 'aws-lambda';
import { setBaseEnv, startDynamo, startStubServer, type RecordedRequest } from '../runtime/support/aws-local.ts';
import { lambdaContext, sqsEvent } from '../http/support/events.ts';

// The notifications consumer against DynamoDB Local, a Slack webhook stand-in and an SES v2 stand-in: what is
// delivered, what is dropped with a reason, and what is thrown back to the queue.

jest.setTimeout(60_000);
setBaseEnv();
const dynamo = await startDynamo();

type Answer = (req: RecordedRequest, res: ServerResponse) => void;
let slackAnswer: Answer = (_req, res) => res.writeHead(200).end('ok');
let sesAnswer: Answer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"MessageId":"m-1"}');
const slack = await startStubServer((req, res) => slackAnswer(req, res));
const ses = await startStubServer((req, res) => sesAnswer(req, res));
const HOOK_PATH = '/services/T000/B000/hook-credential-3f9a';
const HOOK = `${slack.endpoint}${HOOK_PATH}`;
process.env.AWS_ENDPOINT_URL_SESV2 = ses.endpoint;

const { sendNotification } = await import('../../../shared/jobs/notifications.ts');
const { clearSecretsCache } = await import('../../../shared/runtime/env.ts');
const { slackSender } = await import('../../../shared/notify/slack.ts');
const { resetEmailClient } = await import('../../../shared/notify/email.ts');
const { PermanentDeliveryError, TransientDeliveryError } = await import('../../../shared/notify/errors.ts');
const { createUser } = await import('../../../shared/db/users.ts');
const notify = (await import('../../../lambdas/jobs/send-notification.ts')).handler;

afterAll(async () => {
  resetEmailClient();
  await Promise.all([slack.close(), ses.close(), dynamo.stop()]);
});

const data = {
  repositories: 1,
  openBySeverity: { critical: 1, high: 0, medium: 0, low: 0, info: 0 },
  newThisWeek: 1,
  fixedThisWeek: 0,
  securityScore: 80,
  lowestSecurityScore: 80,
  openChangeThisWeek: 1,
  scansCompleted: 2,
  since: '2026-11-16T08:00:00.000Z',
  atRisk: [{ fullName: 'acme/api', securityScore: 80, open: 1 }],
};

async function user() {
  const id = randomUUID();
  return createUser({ id, email: `${id}@example.com`, username: `u${id.slice(0, 8)}` });
}

function configure(settings: { slack?: string; from?: string }) {
  if (settings.slack) process.env.SLACK_WEBHOOK_URL = settings.slack;
  else delete process.env.SLACK_WEBHOOK_URL;
  if (settings.from) process.env.NOTIFICATION_EMAIL_FROM = settings.from;
  else delete process.env.NOTIFICATION_EMAIL_FROM;
  clearSecretsCache();
}

beforeEach(() => {
  configure({ slack: HOOK, from: 'reports@example.com' });
  slack.requests.length = 0;
  ses.requests.length = 0;
  slackAnswer = (_req, res) => res.writeHead(200).end('ok');
  sesAnswer = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"MessageId":"m-1"}');
});

describe('delivery', () => {
  it('posts the Block Kit report to the webhook and e-mails the user from the configured identity', async () => {
    const ada = await user();
    expect(await sendNotification({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data })).toEqual({ delivered: true });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]?.url).toBe(HOOK_PATH);
    const posted = JSON.parse(slack.requests[0]?.body ?? '{}') as { text: string; blocks: { type: string }[] };
    expect(posted.text).toContain('1 open finding');
    expect(posted.blocks[0]?.type).toBe('header');

    expect(await sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report', data })).toEqual({ delivered: true });
    expect(ses.requests).toHaveLength(1);
    expect(ses.requests[0]?.url).toBe('/v2/email/outbound-emails');
    const mail = JSON.parse(ses.requests[0]?.body ?? '{}') as { FromEmailAddress: string; Destination: { ToAddresses: string[] }; Content: { Simple: { Subject: { Data: string }; Body: { Text: { Data: string }; Html: { Data: string } } } } };
    expect(mail.FromEmailAddress).toBe('reports@example.com');
    expect(mail.Destination.ToAddresses).toEqual([ada.email]);
    expect(mail.Content.Simple.Subject.Data).toContain('security score 80/100');
    expect(mail.Content.Simple.Body.Text.Data).toContain('New this week: 1');
    expect(mail.Content.Simple.Body.Html.Data).toContain('<table>');
  });
});

describe('dropped with a reason, never reported delivered', () => {
  it('when the channel is not configured here', async () => {
    const ada = await user();
    configure({});
    expect(await sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report', data })).toEqual({ delivered: false, reason: expect.stringContaining('NOTIFICATION_EMAIL_FROM') });
    expect(await sendNotification({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data })).toEqual({ delivered: false, reason: expect.stringContaining('SLACK_WEBHOOK_URL') });
    expect(slack.requests).toEqual([]);
    expect(ses.requests).toEqual([]);
  });

  it('when the user is gone, the kind has no template or the data is malformed', async () => {
    const ada = await user();
    expect(await sendNotification({ userId: 'nobody', channel: 'slack', kind: 'weekly-report', data })).toEqual({ delivered: false, reason: 'the user no longer exists' });
    expect(await sendNotification({ userId: ada.id, channel: 'slack', kind: 'scan-completed', data })).toEqual({ delivered: false, reason: 'no message template for scan-completed notifications' });
    expect(await sendNotification({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data: { ...data, newThisWeek: -2 } })).toEqual({ delivered: false, reason: expect.stringContaining('malformed') });
    expect(await sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report' })).toEqual({ delivered: false, reason: expect.stringContaining('malformed') });
    expect(slack.requests).toEqual([]);
    expect(ses.requests).toEqual([]);
  });

  it('when the channel refuses it permanently (4xx other than 429)', async () => {
    const ada = await user();
    slackAnswer = (_req, res) => res.writeHead(404).end('no_service');
    expect(await sendNotification({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data })).toEqual({ delivered: false, reason: 'slack delivery failed with HTTP 404: no_service' });
    sesAnswer = (_req, res) => res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'MessageRejected' }).end('{"message":"Email address is not verified."}');
    expect(await sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report', data })).toEqual({ delivered: false, reason: expect.stringContaining('MessageRejected') });
  });
});

describe('transient failures are thrown for the queue to retry', () => {
  it.each([
    ['500', 500, 'internal_error'],
    ['429', 429, 'rate_limited'],
    ['503', 503, ''],
  ])('Slack %s', async (_label, status, body) => {
    const ada = await user();
    slackAnswer = (_req, res) => res.writeHead(status).end(body);
    await expect(sendNotification({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data })).rejects.toBeInstanceOf(TransientDeliveryError);
  });

  it('SES throttling and server errors', async () => {
    const ada = await user();
    sesAnswer = (_req, res) => res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' }).end('{"message":"slow down"}');
    await expect(sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report', data })).rejects.toBeInstanceOf(TransientDeliveryError);
    sesAnswer = (_req, res) => res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' }).end('{"message":"oops"}');
    await expect(sendNotification({ userId: ada.id, channel: 'email', kind: 'weekly-report', data })).rejects.toBeInstanceOf(TransientDeliveryError);
    // One request per attempt: the queue, not the SDK, retries.
    expect(ses.requests).toHaveLength(2);
  });

  it('an unreachable webhook, without the URL in the error', async () => {
    configure({ slack: `http://127.0.0.1:9${HOOK_PATH}`, from: 'reports@example.com' });
    const failure = await slackSender.send({ subject: 's', text: 't', html: 'h', blocks: [] }, { userId: 'u', email: 'u@example.com' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransientDeliveryError);
    expect((failure as Error).message).toMatch(/^slack delivery failed: network error \(\w+\)$/);
    expect((failure as Error).message).not.toContain('hook-credential');
  });

  it('and the consumer reports exactly those records as batch failures', async () => {
    const ada = await user();
    slackAnswer = (req, res) => (req.body.includes('acme/flaky') ? res.writeHead(500).end('boom') : res.writeHead(200).end('ok'));
    const flaky = { ...data, atRisk: [{ fullName: 'acme/flaky', securityScore: 80, open: 1 }] };
    const batch = sqsEvent([
      JSON.stringify({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data }),
      JSON.stringify({ userId: ada.id, channel: 'slack', kind: 'weekly-report', data: flaky }),
      JSON.stringify({ userId: ada.id, channel: 'pigeon', kind: 'weekly-report', data }),
      JSON.stringify({ userId: ada.id, channel: 'slack', kind: 'fix-applied' }),
    ]);
    const result = (await notify(batch, lambdaContext('notify'))) as SQSBatchResponse;
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([batch.Records[1]?.messageId, batch.Records[2]?.messageId].sort());
  });
});

describe('errors classes', () => {
  it('are distinguishable by class and flag', () => {
    expect(new PermanentDeliveryError('x', 'email').transient).toBe(false);
    expect(new TransientDeliveryError('x', 'slack').transient).toBe(true);
  });
});
