import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { readScanReport } from '../../../shared/api/scan-reports.ts';
import { latestFixAttempt } from '../../../shared/db/fix-pull-requests.ts';
import { vulnerabilitiesOfRepository } from '../../../shared/db/vulnerabilities.ts';
import { workflows } from '../../../shared/platform/declarations.ts';
import { keys, listKeys } from '../../../shared/pipeline/storage.ts';
import { installChecks, type FakeChecks } from '../../support/fake-github/checks.ts';
import { FakeGitHub } from '../../support/fake-github/server.ts';
import { emptyFilesArchive, makeArchive, zeroBomb } from '../../unit/pipeline/make-archive.ts';
import { startApi, type Api } from '../api/support.ts';
import { eventually } from '../support/local-services.ts';
import { connectFakeRepository, liveEvents, PIPELINE_FIXTURES, queuedScan, runScan, TRIAGE_STAND_IN } from './support.ts';

const RUN_JS = `const { exec } = require('child_process');
const express = require('express');
const app = express();
app.get('/run', (req, res) => {
  exec('ls ' + req.query.dir, (err, out) => res.send(out));
});
`;
const HASH_JS = `const crypto = require('crypto');
function digest(data) {
  return crypto.createHash('md5').update(data).digest('hex');
}
module.exports = { digest };
`;
const HASH_FIXED_JS = HASH_JS.replace("'md5'", "'sha256'");
const CLEAN_JS = 'module.exports = function add(a, b) { return a + b; };\n';

let gh: FakeGitHub;
let checks: FakeChecks;
let services: Services;
let api: Api;
let installation = 9100;

beforeAll(async () => {
  gh = await FakeGitHub.start();
  checks = installChecks(gh);
  Object.assign(process.env, gh.env());
  ({ services, api } = await startApi());
}, 60_000);

afterAll(async () => {
  await services?.stop();
  await gh?.close();
});

/** A fake repository; each JavaScript file gets a line naming the repository, so no two tests share cached results. */
function addRepo(files: Record<string, string | Buffer>) {
  const name = `app-${++installation}`;
  const unique = Object.fromEntries(Object.entries(files).map(([path, content]) => [path, typeof content === 'string' && path.endsWith('.js') ? `${content}// ${name}\n` : content]));
  return gh.addRepository({ owner: 'octo', name, installationId: installation, files: unique });
}

describe('scan workflow on the local stack with the fake GitHub', () => {
  it('scans a GitHub repository to a completed scan with findings, JSON and SARIF reports and live events for the owner only', async () => {
    const owner = await api.registerUser();
    const stranger = await api.registerUser();
    const fake = addRepo({ 'src/run.js': RUN_JS, 'src/hash.js': HASH_JS, 'src/clean.js': CLEAN_JS, 'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]) });
    const repo = await connectFakeRepository(owner, fake);
    const ownerFeed = await liveEvents(services, owner.token);
    const strangerFeed = await liveEvents(services, stranger.token);
    try {
      const job = await queuedScan(owner, repo);
      const { execution, scan } = await runScan(services, job);
      expect(execution.status).toBe('SUCCEEDED');
      expect(scan).toMatchObject({ status: 'completed', commitSha: fake.headSha(), filesTotal: 3, filesCached: 0, filesAnalyzed: 3, shardsTotal: 1, shardsDone: 1, progressPercent: 100 });
      expect(scan.summary).toMatchObject({ total: 2, critical: 1, medium: 1, new: 2, fixed: 0 });
      expect(scan.durationMs).toBeGreaterThanOrEqual(0);

      const vulns = await vulnerabilitiesOfRepository(repo.id);
      expect(vulns.map((v) => [v.ruleId, v.filePath, v.status]).sort()).toEqual([
        ['javascript.taint.command-injection', 'src/run.js', 'open'],
        ['javascript.weak-hash', 'src/hash.js', 'open'],
      ]);

      const json = JSON.parse((await readScanReport(scan.reports.json as string)) as string) as { findings: { ruleId: string }[]; summary: { filesScanned: number } };
      expect(json.findings.map((f) => f.ruleId).sort()).toEqual(['javascript.taint.command-injection', 'javascript.weak-hash']);
      expect(json.summary.filesScanned).toBe(3);
      const sarif = JSON.parse((await readScanReport(scan.reports.sarif as string)) as string) as { version: string; runs: { results: unknown[] }[] };
      expect(sarif.version).toBe('2.1.0');
      expect(sarif.runs[0]?.results).toHaveLength(2);
      const report = await api.request<{ runs: unknown[] }>(`/api/scans/${job.scanId}/report?format=sarif`, { token: owner.token });
      expect(report.status).toBe(200);

      await eventually(() => (ownerFeed.events.some((e) => e.event === 'scan:completed') ? true : undefined), 5000);
      const names = ownerFeed.events.filter((e) => e.data.scanId === job.scanId).map((e) => e.event);
      expect(names[0]).toBe('scan:started');
      expect(names).toContain('scan:progress');
      expect(names.filter((n) => n === 'vulnerability:found')).toHaveLength(2);
      expect(names[names.length - 1]).toBe('scan:completed');
      // Auto-fix is off by default: nothing queued.
      expect(ownerFeed.events.find((e) => e.event === 'scan:completed')?.data).toMatchObject({ summary: { total: 2 }, fixesQueued: 0 });
      const progress = ownerFeed.events.filter((e) => e.event === 'scan:progress').map((e) => e.data.progress as number);
      expect(Math.max(...progress)).toBeGreaterThanOrEqual(90);
      const found = ownerFeed.events.find((e) => e.event === 'vulnerability:found');
      expect(found?.data).toMatchObject({ repositoryId: repo.id, vulnerability: { severity: expect.any(String), file: expect.stringMatching(/^src\//) } });
      expect(strangerFeed.events).toEqual([]);

      // The archive was streamed into the bucket; the shard folders are gone.
      expect(await listKeys(keys.source(job.scanId))).toEqual([keys.source(job.scanId)]);
      expect(existsSync(join(tmpdir(), 'codeguardian-scans', job.scanId))).toBe(false);
    } finally {
      ownerFeed.close();
      strangerFeed.close();
    }
  }, 60_000);

  it('re-scans a push that changes one file by analysing that file only, and marks a finding whose code is gone fixed', async () => {
    const owner = await api.registerUser();
    const fake = addRepo({ 'src/run.js': RUN_JS, 'src/hash.js': HASH_JS, 'src/clean.js': CLEAN_JS });
    const repo = await connectFakeRepository(owner, fake);
    const first = await runScan(services, await queuedScan(owner, repo));
    expect(first.scan).toMatchObject({ status: 'completed', filesAnalyzed: 3, filesCached: 0 });

    const sha = gh.commit(fake.fullName, { files: { 'src/hash.js': `${HASH_FIXED_JS}// ${fake.name}\n` }, message: 'Use SHA-256' });
    const second = await runScan(services, await queuedScan(owner, repo, { trigger: 'push', commitSha: sha }));
    expect(second.scan).toMatchObject({ status: 'completed', commitSha: sha, filesTotal: 3, filesAnalyzed: 1, filesCached: 2 });
    expect(second.scan.summary).toMatchObject({ total: 1, critical: 1, new: 0, fixed: 1 });
    const vulns = await vulnerabilitiesOfRepository(repo.id);
    const weak = vulns.find((v) => v.ruleId === 'javascript.weak-hash');
    expect(weak).toMatchObject({ status: 'fixed', fixedAt: expect.any(String) });
    expect(vulns.find((v) => v.ruleId === 'javascript.taint.command-injection')).toMatchObject({ status: 'open', lastScanId: second.scan.id });

    // The unchanged repository again: nothing analysed, the same findings from the cache.
    const third = await runScan(services, await queuedScan(owner, repo, { trigger: 'push', commitSha: sha }));
    expect(third.scan).toMatchObject({ status: 'completed', filesAnalyzed: 0, filesCached: 3, shardsTotal: 0 });
    expect(third.scan.summary).toMatchObject({ total: 1, new: 0, fixed: 0 });
  }, 60_000);

  it('queues a fix for each new fixable finding when the repository has auto-fix on', async () => {
    const owner = await api.registerUser();
    const fake = addRepo({ 'src/run.js': RUN_JS, 'src/hash.js': HASH_JS });
    const repo = await connectFakeRepository(owner, fake, { autoFixEnabled: true });
    const { scan } = await runScan(services, await queuedScan(owner, repo));
    expect(scan.status).toBe('completed');
    const vulns = await vulnerabilitiesOfRepository(repo.id);
    const weak = vulns.find((v) => v.ruleId === 'javascript.weak-hash');
    const injection = vulns.find((v) => v.ruleId === 'javascript.taint.command-injection');
    expect(weak?.autoFixAvailable).toBe(true);
    expect(await latestFixAttempt(weak?.id as string)).toMatchObject({ status: 'queued', repositoryId: repo.id, userId: owner.id });
    // No mechanical fix on the finding itself: not queued automatically.
    expect(injection?.autoFixAvailable).toBe(false);
    expect(await latestFixAttempt(injection?.id as string)).toBeUndefined();
  }, 60_000);

  it('a pull request scan publishes a check run with only the findings new relative to the default branch and leaves its findings alone', async () => {
    const owner = await api.registerUser();
    const fake = addRepo({ 'src/run.js': RUN_JS, 'src/clean.js': CLEAN_JS });
    const repo = await connectFakeRepository(owner, fake);
    await runScan(services, await queuedScan(owner, repo));
    const before = await vulnerabilitiesOfRepository(repo.id);
    const sha = gh.commit(fake.fullName, { branch: 'feature', files: { 'src/hash.js': HASH_JS, 'src/run.js': null } });
    const pr = await runScan(services, await queuedScan(owner, repo, { trigger: 'pull_request', branch: 'feature', commitSha: sha, pullRequestNumber: 7, baseSha: fake.headSha() }));
    expect(pr.scan.status).toBe('completed');
    expect(pr.scan.summary).toMatchObject({ total: 1, new: 1, fixed: 0 });
    const [run, ...others] = checks.runsFor(fake.fullName, sha);
    expect(others).toEqual([]);
    expect(run).toMatchObject({ name: 'CodeGuardian', status: 'completed', conclusion: 'neutral', external_id: pr.scan.id });
    expect(run?.annotations.map((a) => [a.path, a.start_line])).toEqual([['src/hash.js', 3]]);
    const after = await vulnerabilitiesOfRepository(repo.id);
    expect(after.map((v) => [v.id, v.status])).toEqual(before.map((v) => [v.id, v.status]));
  }, 60_000);

  it('shards a repository of 5,000 files and completes', async () => {
    const owner = await api.registerUser();
    const files: Record<string, string> = { 'src/run.js': RUN_JS };
    for (let i = 0; i < 5000; i++) files[`pkg/m${Math.floor(i / 100)}/f${i}.txt`] = `line ${i}\n`;
    const fake = addRepo(files);
    const repo = await connectFakeRepository(owner, fake);
    const { scan } = await runScan(services, await queuedScan(owner, repo));
    expect(scan).toMatchObject({ status: 'completed', filesTotal: 5001, filesAnalyzed: 5001 });
    expect(scan.shardsTotal).toBeGreaterThanOrEqual(5);
    expect(scan.shardsDone).toBe(scan.shardsTotal);
    expect(scan.summary).toMatchObject({ total: 1, critical: 1 });
  }, 120_000);

  it('ends a scan whose archive is corrupt as failed with scan:failed, and a stopped execution as failed too', async () => {
    const owner = await api.registerUser();
    const feed = await liveEvents(services, owner.token);
    try {
      const fake = addRepo({ 'src/a.js': CLEAN_JS });
      const repo = await connectFakeRepository(owner, fake);
      gh.tarballOverride = (r) => (r.fullName === fake.fullName ? Buffer.from('this is not a gzip tar') : undefined);
      const job = await queuedScan(owner, repo);
      const { execution, scan } = await runScan(services, job);
      expect(execution.status).toBe('FAILED');
      expect(scan).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/not a readable gzip tar/) });
      await eventually(() => feed.events.find((e) => e.event === 'scan:failed' && e.data.scanId === job.scanId), 5000);
      expect(await listKeys(keys.source(job.scanId))).toEqual([]);

      gh.tarballOverride = undefined;
      const stopped = await queuedScan(owner, repo);
      const run = services.runner.startExecution((await import('../../../lib/local/workflow-runner.ts')).stateMachineArn(workflows.scan.name), JSON.stringify(stopped), `scan-${stopped.scanId}`);
      services.runner.stopExecution(run.executionArn, 'Stopped', 'by the test');
      await run.done;
      const { findScan } = await import('../../../shared/db/scans.ts');
      await eventually(async () => ((await findScan(stopped.scanId))?.status === 'failed' ? true : undefined), 10_000);
      expect((await findScan(stopped.scanId))?.failureReason).toMatch(/^The scan workflow was stopped/);
    } finally {
      gh.tarballOverride = undefined;
      feed.close();
    }
  }, 60_000);

  describe('hostile archives', () => {
    const top = (fake: { owner: string; name: string }, sha: string) => `${fake.owner}-${fake.name}-${sha.slice(0, 7)}`;

    async function refused(build: (topFolder: string) => Promise<Buffer>, reason: RegExp) {
      const owner = await api.registerUser();
      const fake = addRepo({ 'src/a.js': CLEAN_JS });
      const repo = await connectFakeRepository(owner, fake);
      const archive = await build(top(fake, fake.headSha()));
      gh.tarballOverride = (r) => (r.fullName === fake.fullName ? archive : undefined);
      try {
        const job = await queuedScan(owner, repo);
        const { scan } = await runScan(services, job);
        expect(scan).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(reason) });
        expect(scan.failureReason).toMatch(/Source archive refused/);
        expect(await vulnerabilitiesOfRepository(repo.id)).toEqual([]);
        expect(await listKeys(keys.source(job.scanId))).toEqual([]);
        return job;
      } finally {
        gh.tarballOverride = undefined;
      }
    }

    const escapee = `cg-escape-${process.pid}`;
    const scansFolder = join(tmpdir(), 'codeguardian-scans');

    it('refuses path traversal', async () => {
      await refused((t) => makeArchive([{ name: `${t}/src/a.js`, content: CLEAN_JS }, { name: `${t}/../../../../tmp/${escapee}`, content: 'owned' }]), /climbs out of the repository/);
      expect(existsSync(join(tmpdir(), escapee))).toBe(false);
    }, 30_000);

    it('refuses a symbolic link out of the tree', async () => {
      await refused((t) => makeArchive([{ name: `${t}/src/a.js`, content: CLEAN_JS }, { name: `${t}/src/passwd`, type: 'symlink', linkname: '../../../etc/passwd' }]), /symbolic link .* points outside the repository/);
    }, 30_000);

    it('refuses a gzip bomb', async () => {
      await refused(async (t) => zeroBomb(60 * 1024 * 1024, t), /decompression bomb/);
    }, 60_000);

    it('refuses 200,000 empty files', async () => {
      await refused(async (t) => emptyFilesArchive(200_000, t), /more than 100000 files/);
    }, 60_000);

    afterAll(() => {
      // Nothing of a refused scan was extracted: no scan folder holds files from these archives.
      const leftovers = existsSync(scansFolder) ? readdirSync(scansFolder, { recursive: true }).filter((p) => String(p).includes(escapee)) : [];
      expect(leftovers).toEqual([]);
    });
  });

  it('stores the triage a triage step adds to the findings store on the vulnerabilities', async () => {
    const other = await startApi({ handlerOverrides: TRIAGE_STAND_IN });
    try {
      const owner = await other.api.registerUser();
      const repo = await connectFakeRepository(owner, addRepo({ 'src/hash.js': HASH_JS }));
      const { scan } = await runScan(other.services, await queuedScan(owner, repo));
      expect(scan.status).toBe('completed');
      const [vuln, ...rest] = await vulnerabilitiesOfRepository(repo.id);
      expect(rest).toEqual([]);
      expect(vuln?.triage).toMatchObject({ verdict: 'true_positive', reasoning: 'test stand-in' });
    } finally {
      await other.services.stop();
    }
  }, 60_000);

  it('a step that throws ends the scan failed with its reason', async () => {
    const other = await startApi({ handlerOverrides: { [workflows.scan.steps.report.entry]: `${PIPELINE_FIXTURES}throwing-step.ts` } });
    try {
      const owner = await other.api.registerUser();
      const feed = await liveEvents(other.services, owner.token);
      const fake = addRepo({ 'src/run.js': RUN_JS });
      const repo = await connectFakeRepository(owner, fake);
      const job = await queuedScan(owner, repo);
      const { execution, scan } = await runScan(other.services, job);
      expect(execution.status).toBe('FAILED');
      expect(scan).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/Report storage exploded on purpose/) });
      const failed = await eventually(() => feed.events.find((e) => e.event === 'scan:failed'), 5000);
      expect(failed.data).toMatchObject({ scanId: job.scanId, reason: expect.stringMatching(/exploded/) });
      expect(feed.events.some((e) => e.event === 'scan:completed')).toBe(false);
      feed.close();
    } finally {
      await other.services.stop();
    }
  }, 60_000);
});
