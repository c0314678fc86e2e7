import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gunzipSync } from 'node:zlib';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/core';
import { extract } from 'tar-stream';
import { FakeGitHub, type FakeRepo } from '../../support/fake-github/server.ts';

async function entries(archive: Buffer): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  reader.end(gunzipSync(archive));
  await done;
  return files;
}

describe('fake GitHub', () => {
  let gh: FakeGitHub;
  let repo: FakeRepo;
  let app: App;

  beforeAll(async () => {
    gh = await FakeGitHub.start();
    repo = gh.addRepository({ owner: 'octo-org', name: 'shop', installationId: 77, files: { 'src/a.js': 'eval(x)\n', 'README.md': '# shop\n' } });
    gh.addRepository({ owner: 'other-org', name: 'secret', installationId: 88, files: { 'x.py': 'pass\n' } });
    app = new App({ appId: FakeGitHub.appId, privateKey: gh.privateKeyPem, Octokit: Octokit.defaults({ baseUrl: gh.apiUrl }) });
  });
  afterAll(() => gh.close());

  it('authenticates the App and its installations the way GitHub does', async () => {
    const installation = await app.octokit.request('GET /repos/{owner}/{repo}/installation', { owner: 'octo-org', repo: 'shop' });
    expect(installation.data.id).toBe(77);
    const client = await app.getInstallationOctokit(77);
    const { data } = await client.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' });
    expect(data).toMatchObject({ id: repo.id, full_name: 'octo-org/shop', default_branch: 'main', private: true });
    await expect(client.request('GET /repos/{owner}/{repo}', { owner: 'other-org', repo: 'secret' })).rejects.toMatchObject({ status: 404 });
    const anonymous = new Octokit({ baseUrl: gh.apiUrl, auth: 'ghs_not-a-token' });
    await expect(anonymous.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toMatchObject({ status: 401 });
  });

  it('keeps history: refs, compare and the tarball at an exact commit', async () => {
    const client = await app.getInstallationOctokit(77);
    const first = repo.headSha();
    const second = gh.commit('octo-org/shop', { files: { 'src/a.js': 'safe()\n', 'README.md': null } });
    const ref = await client.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { owner: 'octo-org', repo: 'shop', ref: 'heads/main' });
    expect(ref.data.object.sha).toBe(second);
    const compare = await client.request('GET /repos/{owner}/{repo}/compare/{basehead}', { owner: 'octo-org', repo: 'shop', basehead: `${first}...${second}` });
    expect(compare.data.files?.map((f) => [f.filename, f.status])).toEqual([['README.md', 'removed'], ['src/a.js', 'modified']]);
    const tarball = await client.request('GET /repos/{owner}/{repo}/tarball/{ref}', { owner: 'octo-org', repo: 'shop', ref: first });
    const files = await entries(Buffer.from(tarball.data as ArrayBuffer));
    expect(Object.fromEntries(files)).toEqual({ [`octo-org-shop-${first.slice(0, 7)}/README.md`]: '# shop\n', [`octo-org-shop-${first.slice(0, 7)}/src/a.js`]: 'eval(x)\n' });
  });

  it('lets tests add endpoints and inject failures', async () => {
    gh.on('POST', /^\/repos\/([^/]+)\/([^/]+)\/check-runs$/, (req) => ({ status: 201, body: { id: 1, name: (req.body as { name: string }).name, installation: req.installationId } }));
    const client = await app.getInstallationOctokit(77);
    const created = await client.request('POST /repos/{owner}/{repo}/check-runs', { owner: 'octo-org', repo: 'shop', name: 'CodeGuardian', head_sha: repo.headSha() });
    expect(created.data).toMatchObject({ name: 'CodeGuardian', installation: 77 });
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 502);
    await expect(client.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toMatchObject({ status: 502 });
    expect((await client.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).status).toBe(200);
  });
});
