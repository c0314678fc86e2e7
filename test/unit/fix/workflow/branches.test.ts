import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { setBaseEnv } from '../../runtime/support/aws-local.ts';
import { FakeGitHub } from '../../../support/fake-github/server.ts';
import { installGitData, type GitData } from '../../../support/fake-github/git-data.ts';

// git processes and RS256-signed App tokens are slow on a shared machine.
jest.setTimeout(30_000);

setBaseEnv();
const { commitFixBranch, fixLandedIn, readFileAtCommit, resolveCommit } = await import('../../../../shared/fix/local-git.ts');
const { openGithubFixPullRequest, readGithubFile, branchHead } = await import('../../../../shared/fix/github.ts');
const { installationClient, resetGithubClient } = await import('../../../../shared/github/client.ts');

const SOURCE = "const crypto = require('crypto');\nmodule.exports = (v) => crypto.createHash('md5').update(v).digest('hex');\n";
const FIXED = SOURCE.replace("'md5'", "'sha256'");

describe('whether a local fix landed in the default branch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-local-landed-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], { encoding: 'utf8' }).trim();
  let base = '';
  const propose = async (branch: string) =>
    (await commitFixBranch({ repo: dir, baseSha: base, branch, path: 'src/hash.js', content: FIXED, message: 'fix\n', date: '2026-11-23T18:00:00Z' })).headSha;
  /** A fresh main at the base with one unrelated commit on it, so nothing lands by fast-forward alone. */
  const resetMain = (name: string) => {
    git('checkout', '--quiet', '-B', name, base);
    writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
    git('add', 'README.md');
    git('commit', '--quiet', '-m', `docs for ${name}`);
  };
  const landed = async (fix: string, target: string) => fixLandedIn(dir, fix, git('rev-parse', target), 'src/hash.js');

  beforeAll(() => {
    git('init', '--quiet', '--initial-branch=main');
    execFileSync('mkdir', ['-p', join(dir, 'src')]);
    writeFileSync(join(dir, 'src/hash.js'), SOURCE);
    writeFileSync(join(dir, 'src/other.js'), 'module.exports = 1;\n');
    git('add', '.');
    git('commit', '--quiet', '-m', 'initial');
    base = git('rev-parse', 'HEAD');
  });

  it('is not landed while the default branch lacks it', async () => {
    resetMain('t-open');
    expect(await landed(await propose('fix-open'), 't-open')).toBe(false);
  });

  it('is landed through a merge commit or a fast-forward', async () => {
    const fix = await propose('fix-merge');
    resetMain('t-merge');
    git('merge', '--quiet', '--no-edit', 'fix-merge');
    expect(await landed(fix, 't-merge')).toBe(true);
    git('checkout', '--quiet', '-B', 't-ff', base);
    git('merge', '--quiet', '--ff-only', 'fix-merge');
    expect(await landed(fix, 't-ff')).toBe(true);
  });

  it('is landed through a squash merge, with its branch deleted afterwards and other work after it', async () => {
    const fix = await propose('fix-squash');
    resetMain('t-squash');
    git('merge', '--quiet', '--squash', 'fix-squash');
    git('commit', '--quiet', '-m', 'Squashed: use sha256');
    git('branch', '--quiet', '-D', 'fix-squash');
    // Later work on the same file: only the squashed commit's patch still matches the fix.
    writeFileSync(join(dir, 'src/hash.js'), `${FIXED}// reviewed\n`);
    git('commit', '--quiet', '-am', 'later work');
    expect(await resolveCommit(dir, fix)).toBe(fix);
    expect(await landed(fix, 't-squash')).toBe(true);
  });

  it('is landed through a cherry-pick with another message', async () => {
    const fix = await propose('fix-pick');
    resetMain('t-pick');
    git('cherry-pick', '--no-commit', fix);
    git('commit', '--quiet', '-m', 'Picked the hash fix');
    expect(await landed(fix, 't-pick')).toBe(true);
  });

  it('is landed when the file reads exactly as the fix left it, though the change was made another way', async () => {
    const fix = await propose('fix-by-hand');
    resetMain('t-hand');
    writeFileSync(join(dir, 'src/hash.js'), FIXED);
    writeFileSync(join(dir, 'src/other.js'), 'module.exports = 3;\n');
    git('commit', '--quiet', '-am', 'hash and other changes together');
    expect(await landed(fix, 't-hand')).toBe(true);
    // A different change to the same line is not the fix.
    resetMain('t-other');
    writeFileSync(join(dir, 'src/hash.js'), SOURCE.replace("'md5'", "'sha512'"));
    git('commit', '--quiet', '-am', 'sha512 instead');
    expect(await landed(fix, 't-other')).toBe(false);
  });
});

describe('a fix branch in a local repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-local-fix-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
  let base = '';
  const commit = (overrides: Partial<Parameters<typeof commitFixBranch>[0]> = {}) =>
    commitFixBranch({ repo: dir, baseSha: base, branch: 'codeguardian-fix-v1', path: 'src/hash.js', content: FIXED, message: 'fix\n', date: '2026-11-23T18:00:00Z', ...overrides });

  beforeAll(() => {
    git('init', '--quiet', '--initial-branch=main');
    execFileSync('mkdir', ['-p', join(dir, 'src')]);
    writeFileSync(join(dir, 'src/hash.js'), SOURCE);
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    symlinkSync('hash.js', join(dir, 'src/link.js'));
    git('add', '.');
    git('-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', 'commit', '--quiet', '-m', 'initial');
    base = git('rev-parse', 'HEAD');
    writeFileSync(join(dir, 'src/hash.js'), `${SOURCE}// local edit\n`);
  });

  it('is one commit on the base changing one file, leaving HEAD, index and working tree alone', async () => {
    const { headSha, reused } = await commit();
    expect(reused).toBe(false);
    expect(git('rev-parse', 'codeguardian-fix-v1')).toBe(headSha);
    expect(git('rev-parse', `${headSha}^`)).toBe(base);
    expect(git('rev-list', '--count', `${base}..${headSha}`)).toBe('1');
    expect(git('diff', '--name-only', base, headSha)).toBe('src/hash.js');
    expect(git('show', `${headSha}:src/hash.js`)).toBe(FIXED.trimEnd());
    expect(git('log', '-1', '--format=%an <%ae>', headSha)).toBe('CodeGuardian <codeguardian@localhost>');
    expect(git('symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git('status', '--porcelain')).toBe('M src/hash.js');
    expect(readFileSync(join(dir, 'src/hash.js'), 'utf8')).toContain('// local edit');
  });

  it('makes the same commit when repeated, and keeps an executable file executable', async () => {
    const first = await commit();
    expect(first.reused).toBe(true);
    const script = await commit({ branch: 'codeguardian-fix-v2', path: 'run.sh', content: '#!/bin/sh\necho fixed\n' });
    expect(git('ls-tree', script.headSha, 'run.sh').split(/\s/)[0]).toBe('100755');
  });

  it('moves an existing branch to the new commit', async () => {
    const moved = await commit({ content: FIXED.replace('sha256', 'sha512') });
    expect(moved.reused).toBe(false);
    expect(git('rev-parse', 'codeguardian-fix-v1')).toBe(moved.headSha);
    expect(git('rev-parse', `${moved.headSha}^`)).toBe(base);
  });

  it('refuses paths that leave the repository, non-files and unknown commits', async () => {
    await expect(commit({ path: '../outside.js' })).rejects.toThrow('Refusing the path');
    await expect(commit({ path: '.git/config' })).rejects.toThrow('Refusing the path');
    await expect(commit({ path: 'src/missing.js' })).rejects.toThrow('is not a file');
    await expect(commit({ baseSha: 'f'.repeat(40) })).rejects.toThrow('is not in the repository');
    await expect(commit({ baseSha: '--output=/tmp/x' })).rejects.toThrow('is not in the repository');
    expect(git('branch', '--list', 'codeguardian-fix-*').split('\n').map((b) => b.trim())).toEqual(['codeguardian-fix-v1', 'codeguardian-fix-v2']);
  });

  it('reads files at a commit, but not symbolic links, directories or paths outside', async () => {
    expect((await readFileAtCommit(dir, base, 'src/hash.js'))?.toString('utf8')).toBe(SOURCE);
    expect(await readFileAtCommit(dir, base, 'src/link.js')).toBeUndefined();
    expect(await readFileAtCommit(dir, base, 'src')).toBeUndefined();
    expect(await readFileAtCommit(dir, base, '../etc/passwd')).toBeUndefined();
    expect(await resolveCommit(dir, 'refs/heads/main')).toBe(base);
    expect(await resolveCommit(dir, 'refs/heads/nope')).toBeUndefined();
  });
});

describe('a fix pull request through the Git Data API', () => {
  let gh: FakeGitHub;
  let data: GitData;
  const change = (baseSha: string) => ({
    baseSha, baseBranch: 'main', branch: 'codeguardian-fix-v9', path: 'src/hash.js', content: FIXED,
    commitMessage: '🔒 Security Fix: Weak Hashing\n', title: '🔒 Security Fix: Weak Hashing', body: 'body',
  });

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    data = installGitData(gh);
    Object.assign(process.env, gh.env());
    resetGithubClient({ backoffUnitMs: 1 });
  });
  afterAll(async () => {
    await gh.close();
  });

  it('commits one file on the base commit and opens the pull request; a repeat reuses it', async () => {
    const fake = gh.addRepository({ owner: 'octo-org', name: 'gd-app', files: { 'src/hash.js': SOURCE, 'README.md': 'hi\n' } });
    gh.commit(fake.fullName, { files: { 'README.md': 'newer\n' } });
    const base = fake.commits.get(fake.headSha())!.parents[0]!;
    const octokit = await installationClient(fake.installationId);
    const ref = { owner: 'octo-org', repo: 'gd-app' };
    expect((await readGithubFile(octokit, ref, base, 'src/hash.js'))?.toString('utf8')).toBe(SOURCE);
    expect(await readGithubFile(octokit, ref, base, 'src/none.js')).toBeUndefined();

    const opened = await openGithubFixPullRequest(octokit, ref, change(base));
    expect(opened).toMatchObject({ number: 1, reused: false, url: `${gh.baseUrl}/octo-org/gd-app/pull/1` });
    const commit = fake.commits.get(opened.headSha)!;
    expect(commit.parents).toEqual([base]);
    expect(commit.tree.get('src/hash.js')?.toString('utf8')).toBe(FIXED);
    expect(commit.tree.get('README.md')?.toString('utf8')).toBe('hi\n');
    expect(data.changedPaths(fake.fullName, 1)).toEqual(['src/hash.js']);
    expect(await branchHead(octokit, ref, 'codeguardian-fix-v9')).toBe(opened.headSha);

    const again = await openGithubFixPullRequest(octokit, ref, change(base));
    expect(again).toMatchObject({ number: 1, reused: true });
    expect(data.pulls(fake.fullName)).toHaveLength(1);
  });

  it('recovers a branch left by an interrupted attempt and survives a 502 on the way', async () => {
    const fake = gh.addRepository({ owner: 'octo-org', name: 'gd-left', files: { 'src/hash.js': SOURCE } });
    const base = fake.headSha();
    fake.refs.set('heads/codeguardian-fix-v9', base);
    gh.failNext('POST', /\/git\/blobs$/, 502);
    const octokit = await installationClient(fake.installationId);
    const opened = await openGithubFixPullRequest(octokit, { owner: 'octo-org', repo: 'gd-left' }, change(base));
    expect(opened.reused).toBe(false);
    expect(fake.refs.get('heads/codeguardian-fix-v9')).toBe(opened.headSha);
    expect(gh.requestsTo('POST', /gd-left\/git\/blobs$/)).toHaveLength(2);
    expect(gh.requestsTo('PATCH', /gd-left\/git\/refs\/heads\/codeguardian-fix-v9$/)).toHaveLength(1);
  });

  it('keeps the mode of an executable file', async () => {
    const fake = gh.addRepository({ owner: 'octo-org', name: 'gd-exec', files: { 'bin/hash.js': SOURCE } });
    gh.on('GET', /^\/repos\/octo-org\/gd-exec\/git\/trees\/([0-9a-f]{40})$/, (req) => ({
      status: 200,
      body: { sha: req.match[1], truncated: false, tree: [{ path: 'bin', mode: '040000', type: 'tree', sha: 'b'.repeat(40) }, { path: 'bin/hash.js', mode: '100755', type: 'blob', sha: 'c'.repeat(40) }] },
    }));
    const octokit = await installationClient(fake.installationId);
    await openGithubFixPullRequest(octokit, { owner: 'octo-org', repo: 'gd-exec' }, { ...change(fake.headSha()), path: 'bin/hash.js' });
    const [tree] = gh.requestsTo('POST', /gd-exec\/git\/trees$/);
    expect((tree?.body as { tree: { path: string; mode: string }[] }).tree).toEqual([expect.objectContaining({ path: 'bin/hash.js', mode: '100755' })]);
  });

  it('fails on a base commit the repository does not have, writing nothing', async () => {
    const fake = gh.addRepository({ owner: 'octo-org', name: 'gd-missing', files: { 'src/hash.js': SOURCE } });
    const octokit = await installationClient(fake.installationId);
    await expect(openGithubFixPullRequest(octokit, { owner: 'octo-org', repo: 'gd-missing' }, change('a'.repeat(40)))).rejects.toMatchObject({ status: 404 });
    expect(gh.requestsTo('POST', /gd-missing\/git\//)).toEqual([]);
    expect(data.pulls(fake.fullName)).toEqual([]);
  });

  it('answers the real closed webhook payload when a pull request is merged', () => {
    const fake = gh.repo('octo-org/gd-app');
    const payload = data.merge(fake.fullName, 1);
    expect(payload).toMatchObject({
      action: 'closed', number: 1, repository: { id: fake.id, full_name: 'octo-org/gd-app' }, installation: { id: fake.installationId },
      pull_request: { number: 1, merged: true, state: 'closed', head: { ref: 'codeguardian-fix-v9' }, merged_at: expect.any(String), html_url: `${gh.baseUrl}/octo-org/gd-app/pull/1` },
    });
    expect(fake.commits.get(fake.headSha())?.tree.get('src/hash.js')?.toString('utf8')).toBe(FIXED);
    expect(() => data.close(fake.fullName, 1)).toThrow('not open');
  });
});
