import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Services } from '../../../lib/local/stack.ts';
import { newRepository, resolveLocalRepository } from '../../../shared/api/repositories.ts';
import { createRepository } from '../../../shared/db/repositories.ts';
import { vulnerabilitiesOfRepository } from '../../../shared/db/vulnerabilities.ts';
import { startApi, type Api } from '../api/support.ts';
import { queuedScan, runScan } from './support.ts';

let services: Services;
let api: Api;
let root: string;

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, '-c', 'user.email=dev@example.com', '-c', 'user.name=Dev', ...args], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cg-local-repos-'));
  process.env.LOCAL_REPO_ROOT = root;
  ({ services, api } = await startApi());
}, 60_000);

afterAll(async () => {
  await services?.stop();
  rmSync(root, { recursive: true, force: true });
});

it('scans a connected local git repository at its commit, not its working tree', async () => {
  const dir = join(root, 'shop');
  mkdirSync(join(dir, 'src'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'src/hash.js'), "const crypto = require('crypto');\nmodule.exports = (d) => crypto.createHash('md5').update(d).digest('hex');\n");
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  const sha = git(dir, 'rev-parse', 'HEAD');
  // Uncommitted changes are not part of the scan.
  writeFileSync(join(dir, 'src/hash.js'), "module.exports = () => 'clean';\n");

  const owner = await api.registerUser();
  const { realPath } = resolveLocalRepository('shop');
  const repo = newRepository(owner.id, { name: 'shop', fullName: 'local/shop', owner: 'local', private: true, language: null, defaultBranch: 'main', localPath: realPath });
  await createRepository(repo);
  const { scan } = await runScan(services, await queuedScan(owner, repo));
  expect(scan).toMatchObject({ status: 'completed', commitSha: sha, filesTotal: 1, filesAnalyzed: 1 });
  expect((await vulnerabilitiesOfRepository(repo.id)).map((v) => v.ruleId)).toEqual(['javascript.weak-hash']);

  const missing = await runScan(services, await queuedScan(owner, repo, { branch: 'no-such-branch' }));
  expect(missing.scan).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/no-such-branch was not found/) });
}, 60_000);
