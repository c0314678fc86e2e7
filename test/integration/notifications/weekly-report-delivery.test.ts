import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { HandlerRuntime } from '../../../lib/local/handlers.ts';
import { LOCAL_CREDENTIALS, type LocalQueue } from '../../../lib/local/provision.ts';
import { QueuePoller } from '../../../lib/local/queue-poller.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { queues } from '../../../shared/platform/declarations.ts';
import { eventually, REPO_ROOT, sharedEmulators, startTestServices } from '../support/local-services.ts';

// The weekly report end to end on the local stack: the schedule's handler queues one message per user and
// channel, the queue poller hands them to the real notifications consumer, which e-mails through an SES v2
// stand-in (the SendEmail REST shape, reached through AWS_ENDPOINT_URL_SESV2) and posts to a Slack webhook
// stand-in. A webhook answering 500 makes the message retried and dead-lettered after its three receives.

jest.setTimeout(120_000);

interface Received {
  readonly path: string;
  readonly body: string;
}

async function listen(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const slackPosts: Received[] = [];
const emails: Received[] = [];
const FLAKY = `flaky-${randomUUID().slice(0, 6)}`;
const HOOK_PATH = `/services/T0/B0/${randomUUID().replace(/-/g, '')}`;
const logged: string[] = [];
let restoreOutput: () => void = () => undefined;
let services: Services;
let poller: QueuePoller;
let sqs: SQSClient;
let queue: LocalQueue;
let slackServer: Server;
let sesServer: Server;
let hook = '';

const ada = { id: '', email: '' };
const bob = { id: '', email: '' };

beforeAll(async () => {
  const slack = await listen((req, body, res) => {
    slackPosts.push({ path: req.url ?? '', body });
    if (req.url !== HOOK_PATH) return res.writeHead(404).end('no_service');
    if (body.includes(FLAKY)) return res.writeHead(500).end('internal_error');
    res.writeHead(200).end('ok');
  });
  const ses = await listen((req, body, res) => {
    emails.push({ path: req.url ?? '', body });
    if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails') {
      return res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'NotFoundException' }).end('{"message":"unknown operation"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ MessageId: randomUUID() }));
  });
  slackServer = slack.server;
  sesServer = ses.server;
  hook = `${slack.url}${HOOK_PATH}`;

  // Set before any handler module loads: handlers read configuration and secrets from this process's env.
  process.env.SLACK_WEBHOOK_URL = hook;
  process.env.NOTIFICATION_EMAIL_FROM = 'reports@codeguardian.example.com';
  process.env.AWS_ENDPOINT_URL_SESV2 = ses.url;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  services = await startTestServices({ background: false });

  // A private notifications queue, so no other suite's poller takes these messages.
  const shared = sharedEmulators();
  sqs = new SQSClient({ region: 'us-east-1', endpoint: shared.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  const make = async (name: string) => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    return { url, arn: attrs.Attributes?.QueueArn as string };
  };
  const suffix = randomUUID().slice(0, 8);
  const [main, dlq] = [await make(`it-notifications-${suffix}`), await make(`it-notifications-${suffix}-dlq`)];
  queue = { key: 'notifications', decl: queues.notifications, url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
  process.env[queues.notifications.envVar] = main.url;

  const { createUser } = await import('../../../shared/db/users.ts');
  const { createRepository, updateRepositorySettings } = await import('../../../shared/db/repositories.ts');
  const { newRepository } = await import('../../../shared/api/repositories.ts');
  for (const [who, repoName] of [[ada, `steady-${suffix}`], [bob, FLAKY]] as const) {
    const tag = randomUUID().slice(0, 8);
    const user = await createUser({ email: `n-${tag}@example.com`, username: `n-${tag}` });
    Object.assign(who, { id: user.id, email: user.email });
    const record = newRepository(user.id, { githubRepoId: Number.parseInt(tag, 16), installationId: 1, name: repoName, fullName: `acme/${repoName}`, owner: 'acme', private: true, language: null, defaultBranch: 'main' });
    await createRepository(record);
    await updateRepositorySettings(user.id, record.id, { autoScanEnabled: true });
  }

  // Everything the handlers print, to prove the webhook URL never reaches a log line.
  const capture = (stream: NodeJS.WriteStream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      logged.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  };
  const restores = [capture(process.stdout), capture(process.stderr)];
  restoreOutput = () => restores.forEach((restore) => restore());

  const runtime = new HandlerRuntime(REPO_ROOT);
  poller = new QueuePoller({ sqs, runtime, queues: [queue], region: 'us-east-1', retryDelaySeconds: 1, waitSeconds: 1 });
  const weekly = { version: '0', id: randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: {} };
  const result = await runtime.invoke('lambdas/jobs/queue-weekly-reports.ts', weekly, { timeoutSeconds: 60 });
  expect(result).toMatchObject({ failed: 0 });
  poller.start();
});

afterAll(async () => {
  restoreOutput();
  await poller?.stop();
  sqs?.destroy();
  await services?.stop();
  await Promise.all([slackServer, sesServer].map((s) => new Promise((r) => s?.close(r))));
});

const emailsTo = (address: string) =>
  emails.map((e) => JSON.parse(e.body) as { FromEmailAddress: string; Destination: { ToAddresses: string[] }; Content: { Simple: { Subject: { Data: string }; Body: { Text: { Data: string }; Html: { Data: string } } } } }).filter((m) => m.Destination.ToAddresses.includes(address));
const slackAbout = (repo: string) => slackPosts.filter((p) => p.path === HOOK_PATH && p.body.includes(repo));

describe('weekly report delivery', () => {
  it('reaches each user by e-mail from the configured identity and the team by Slack', async () => {
    const [mail] = await eventually(() => (emailsTo(ada.email).length > 0 ? emailsTo(ada.email) : undefined), 60_000);
    expect(mail?.FromEmailAddress).toBe('reports@codeguardian.example.com');
    expect(mail?.Content.Simple.Subject.Data).toBe('CodeGuardian weekly report: 0 open findings, security score 100/100');
    expect(mail?.Content.Simple.Body.Text.Data).toContain('Repositories: 1');
    expect(mail?.Content.Simple.Body.Text.Data).toContain('New this week: 0');
    expect(mail?.Content.Simple.Body.Html.Data).toContain('acme/steady-');
    const [post] = await eventually(() => (slackAbout('acme/steady-').length > 0 ? slackAbout('acme/steady-') : undefined), 60_000);
    const message = JSON.parse(post?.body ?? '{}') as { text: string; blocks: { type: string }[] };
    expect(message.blocks.map((b) => b.type)).toContain('header');
    // The failing webhook does not hold up the user's e-mail.
    await eventually(() => (emailsTo(bob.email).length > 0 ? true : undefined), 60_000);
  });

  it('retries a Slack 500 and dead-letters the message after three receives, delivering it no other way', async () => {
    const dead = await eventually(async () => {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const bodies = (got.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as { userId: string; channel: string });
      return bodies.length > 0 ? bodies : undefined;
    }, 60_000);
    expect(dead).toEqual([expect.objectContaining({ userId: bob.id, channel: 'slack', kind: 'weekly-report' })]);
    expect(slackAbout(FLAKY)).toHaveLength(queues.notifications.maxReceives);
    expect(emailsTo(bob.email)).toHaveLength(1);
    expect(emailsTo(ada.email)).toHaveLength(1);
    expect(slackAbout('acme/steady-')).toHaveLength(1);
  });

  it('never logs the webhook URL, while logging the outcomes', () => {
    const output = logged.join('');
    expect(output).toContain('Notification delivered');
    expect(output).toContain('slack delivery failed with HTTP 500');
    expect(output).not.toContain(HOOK_PATH);
    expect(output).not.toContain(hook);
  });
});
