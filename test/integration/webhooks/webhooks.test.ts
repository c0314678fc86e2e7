import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { findDelivery } from '../../../shared/db/deliveries.ts';
import { findRepository } from '../../../shared/db/repositories.ts';
import { scansOfRepository } from '../../../shared/db/scans.ts';
import { FakeGitHub, type FakeRepo } from '../../support/fake-github/server.ts';
import { installationRepositoriesPayload, pushPayload, signedDelivery, type PayloadRepo } from '../../support/webhook-payloads.ts';
import { startApi, type Api, type TestUser } from '../api/support.ts';
import { eventually } from '../support/local-services.ts';
import { connectFakeRepository, TRIAGE_STAND_IN } from '../pipeline/support.ts';

jest.setTimeout(120_000);

const APP_JS = `const express = require('express');
const app = express();
app.get('/user', (req, res) => {
  db.query("SELECT * FROM users WHERE id = " + req.query.id);
});
`;

let gh: FakeGitHub;
let services: Services;
let api: Api;
let alice: TestUser;
let bob: TestUser;
let fake: FakeRepo;
let repositoryId: string;

const payloadRepo = (repo: FakeRepo): PayloadRepo => ({ id: repo.id, owner: repo.owner, name: repo.name, defaultBranch: repo.defaultBranch, installationId: repo.installationId });

async function post(delivery: { headers: Record<string, string>; body: string }, path = '/api/webhooks/github') {
  const res = await fetch(`http://127.0.0.1:${services.apiPort}${path}`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const pushScans = async (sha: string) => (await scansOfRepository(repositoryId)).filter((s) => s.commitSha === sha);
const settle = () => new Promise((resolve) => setTimeout(resolve, 3_000));

beforeAll(async () => {
  gh = await FakeGitHub.start();
  Object.assign(process.env, gh.env());
  ({ services, api } = await startApi({ background: true, handlerOverrides: TRIAGE_STAND_IN }));
  [alice, bob] = await Promise.all([api.registerUser(), api.registerUser()]);
  fake = gh.addRepository({ owner: 'octo-org', name: 'webshop', installationId: 4711, files: { 'src/app.js': APP_JS } });
  // Stored exactly as the connect route stores it (that route's own checks are the repository API's tests).
  repositoryId = (await connectFakeRepository(alice, fake)).id;
}, 120_000);

afterAll(async () => {
  await services?.stop();
  await gh?.close();
});

describe('GitHub webhooks on the local stack', () => {
  it('answers a re-signed push example with 202 and queues a push scan of the owner’s connected repository at the pushed commit', async () => {
    const before = fake.headSha();
    const after = gh.commit(fake.fullName, { files: { 'src/util.js': 'module.exports = 1;\n' } });
    const res = await post(await signedDelivery(gh.webhookSecret, 'push', pushPayload(payloadRepo(fake), { before, after })));
    expect(res).toMatchObject({ status: 202, body: { event: 'push', status: 'queued' } });
    const [scan] = await eventually(async () => {
      const scans = await pushScans(after);
      return scans.length > 0 ? scans : undefined;
    }, 60_000);
    expect(scan).toMatchObject({ userId: alice.id, repositoryId, trigger: 'push', branch: 'main', commitSha: after });
    const list = await api.request<{ scans: { id: string }[] }>(`/api/scans?repositoryId=${repositoryId}`, { token: alice.token });
    expect(list.body.scans.map((s) => s.id)).toContain(scan?.id);
    const other = await api.request<{ scans: unknown[] }>('/api/scans', { token: bob.token });
    expect(other.body.scans).toEqual([]);
  });

  it('answers a bad signature with 401 and stores and queues nothing', async () => {
    const after = gh.commit(fake.fullName, { files: { 'src/bad.js': 'eval(input);\n' } });
    const delivery = await signedDelivery('not-the-webhook-secret', 'push', pushPayload(payloadRepo(fake), { after }));
    const res = await post(delivery);
    expect(res).toEqual({ status: 401, body: { error: expect.any(String), code: 'INVALID_SIGNATURE' } });
    expect(await findDelivery(delivery.deliveryId)).toBeUndefined();
    await settle();
    expect(await pushScans(after)).toEqual([]);
  });

  it('scans a delivery that arrives twice once', async () => {
    const after = gh.commit(fake.fullName, { files: { 'src/twice.js': 'module.exports = 2;\n' } });
    const delivery = await signedDelivery(gh.webhookSecret, 'push', pushPayload(payloadRepo(fake), { after }));
    expect((await post(delivery)).status).toBe(202);
    expect(await post(delivery)).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    await eventually(async () => ((await pushScans(after)).length > 0 ? true : undefined), 60_000);
    await settle();
    expect(await pushScans(after)).toHaveLength(1);
  });

  it('the pull request endpoint refuses other events and a bad signature', async () => {
    const push = await signedDelivery(gh.webhookSecret, 'push', pushPayload(payloadRepo(fake), { after: fake.headSha() }));
    expect(await post(push, '/api/webhooks/github/pr')).toMatchObject({ status: 400, body: { code: 'EVENT_NOT_ACCEPTED' } });
    const forged = await signedDelivery('not-the-webhook-secret', 'pull_request', JSON.parse(push.body));
    expect(await post(forged, '/api/webhooks/github/pr')).toMatchObject({ status: 401, body: { code: 'INVALID_SIGNATURE' } });
    expect(await findDelivery(forged.deliveryId)).toBeUndefined();
  });

  it('marks the connected repository when it is removed from the installation, keeping it and its scans', async () => {
    const payload = installationRepositoriesPayload('removed', fake.installationId, [{ id: fake.id, fullName: fake.fullName }]);
    expect((await post(await signedDelivery(gh.webhookSecret, 'installation_repositories', payload))).status).toBe(202);
    const marked = await eventually(async () => {
      const record = await findRepository(repositoryId);
      return record && 'accessRemovedAt' in record ? record : undefined;
    }, 60_000);
    expect(marked).toMatchObject({ accessRemovedReason: 'repository_removed', fullName: fake.fullName });
    expect((await scansOfRepository(repositoryId)).length).toBeGreaterThan(0);
    const after = gh.commit(fake.fullName, { files: { 'src/later.js': 'module.exports = 3;\n' } });
    expect((await post(await signedDelivery(gh.webhookSecret, 'push', pushPayload(payloadRepo(fake), { after })))).status).toBe(202);
    await settle();
    expect(await pushScans(after)).toEqual([]);
  });
});
