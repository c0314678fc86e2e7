import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { scansOfRepository } from '../../../shared/db/scans.ts';
import { installChecks, type FakeChecks } from '../../support/fake-github/checks.ts';
import { FakeGitHub, type FakeRepo } from '../../support/fake-github/server.ts';
import { pullRequestPayload, pushPayload, signedDelivery, type PayloadRepo } from '../../support/webhook-payloads.ts';
import { startApi, type TestUser } from '../api/support.ts';
import { eventually } from '../support/local-services.ts';
import { connectFakeRepository, TRIAGE_STAND_IN } from '../pipeline/support.ts';

jest.setTimeout(240_000);

// A weak hash already on the default branch, and a command injection the pull request adds.
const HASH_JS = `const crypto = require('crypto');
function digest(data) {
  return crypto.createHash('md5').update(data).digest('hex');
}
module.exports = { digest };
`;
const RUN_JS = `const { exec } = require('child_process');
const express = require('express');
const app = express();
app.get('/run', (req, res) => {
  exec('ls ' + req.query.dir, (err, out) => res.send(out));
});
`;

let gh: FakeGitHub;
let checks: FakeChecks;
let services: Services;
let owner: TestUser;
let fake: FakeRepo;
let repositoryId: string;

const payloadRepo = (repo: FakeRepo): PayloadRepo => ({ id: repo.id, owner: repo.owner, name: repo.name, defaultBranch: repo.defaultBranch, installationId: repo.installationId });

async function deliver(event: string, payload: unknown): Promise<void> {
  const delivery = await signedDelivery(gh.webhookSecret, event, payload);
  const res = await fetch(`http://127.0.0.1:${services.apiPort}/api/webhooks/github`, { method: 'POST', headers: delivery.headers, body: delivery.body });
  expect(res.status).toBe(202);
}

const completedScanAt = (sha: string) =>
  eventually(async () => {
    const scan = (await scansOfRepository(repositoryId)).find((s) => s.commitSha === sha);
    if (scan?.status === 'failed') throw new Error(`scan of ${sha} failed: ${scan.failureReason}`);
    return scan?.status === 'completed' ? scan : undefined;
  }, 180_000);

beforeAll(async () => {
  gh = await FakeGitHub.start();
  checks = installChecks(gh);
  Object.assign(process.env, gh.env());
  let api;
  ({ services, api } = await startApi({ background: true, handlerOverrides: TRIAGE_STAND_IN }));
  owner = await api.registerUser();
  fake = gh.addRepository({ owner: 'octo-org', name: 'checked', installationId: 5150, files: { 'src/hash.js': HASH_JS } });
  repositoryId = (await connectFakeRepository(owner, fake, { autoFixEnabled: false })).id;
}, 120_000);

afterAll(async () => {
  await services?.stop();
  await gh?.close();
});

describe('a pull request on the local stack', () => {
  it('gets a CodeGuardian check run annotated with the findings new in the pull request only', async () => {
    const base = fake.headSha();
    await deliver('push', pushPayload(payloadRepo(fake), { after: base }));
    expect((await completedScanAt(base)).summary?.total).toBeGreaterThan(0);

    const head = gh.commit(fake.fullName, { branch: 'feature/run', files: { 'src/run.js': RUN_JS } });
    await deliver('pull_request', pullRequestPayload(payloadRepo(fake), { action: 'opened', number: 7, headRef: 'feature/run', headSha: head, baseSha: base }));
    await completedScanAt(head);

    const run = await eventually(async () => checks.runsFor(fake.fullName, head)[0], 30_000);
    expect(run).toMatchObject({ name: 'CodeGuardian', status: 'completed', conclusion: expect.stringMatching(/^(failure|neutral)$/) });
    expect(run.annotations.length).toBeGreaterThan(0);
    expect(new Set(run.annotations.map((a) => a.path))).toEqual(new Set(['src/run.js']));
    expect(checks.runsFor(fake.fullName, base)).toEqual([]);
  });
});
