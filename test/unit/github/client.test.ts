import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { setBaseEnv } from '../runtime/support/aws-local.ts';
import { FakeGitHub, type FakeRepo } from '../../support/fake-github/server.ts';

setBaseEnv();
const gh = await FakeGitHub.start();
const { clearSecretsCache, ConfigError } = await import('../../../shared/runtime/env.ts');
const client = await import('../../../shared/github/client.ts');
const { githubApp, installationClient, resetGithubClient, InstallationTokenCache, GithubAppCredentialsError, TOKEN_REFRESH_MARGIN_MS } = client;

const repo: FakeRepo = gh.addRepository({ owner: 'octo-org', name: 'shop', installationId: 77, files: { 'src/a.js': 'eval(x)\n' } });

function useEnv(overrides: Record<string, string | undefined> = {}, backoffUnitMs = 20): void {
  for (const [name, value] of Object.entries({ ...gh.env(), ...overrides })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  clearSecretsCache();
  resetGithubClient({ backoffUnitMs });
}

const tokenRequests = () => gh.requestsTo('POST', /^\/app\/installations\/77\/access_tokens$/).length;

beforeEach(() => {
  useEnv();
  gh.requests.length = 0;
});
afterAll(() => gh.close());

describe('githubApp', () => {
  it('is undefined without an App id or key', async () => {
    useEnv({ GITHUB_APP_ID: undefined });
    expect(await githubApp()).toBeUndefined();
    useEnv({ GITHUB_APP_PRIVATE_KEY: undefined });
    expect(await githubApp()).toBeUndefined();
    await expect(installationClient(77)).rejects.toThrow('GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY');
  });

  it('talks to GITHUB_API_URL and is reused while the configuration stays the same', async () => {
    const app = await githubApp();
    expect(app).toBeDefined();
    expect(await githubApp()).toBe(app);
    const { data } = await app!.octokit.request('GET /app');
    expect(data?.slug).toBe(FakeGitHub.appSlug);
    expect(gh.requestsTo('GET', /^\/app$/)).toHaveLength(1);
  });

  it('accepts a key pasted with \\n escapes', async () => {
    useEnv({ GITHUB_APP_PRIVATE_KEY: gh.privateKeyPem.trim().replace(/\n/g, '\\n') });
    const { data } = await (await githubApp())!.octokit.request('GET /app');
    expect(data?.id).toBe(Number(FakeGitHub.appId));
  });

  it('says the App id does not match the key when GitHub refuses the JWT', async () => {
    useEnv({ GITHUB_APP_ID: '999' });
    const failure = (await githubApp())!.octokit.request('GET /app');
    await expect(failure).rejects.toBeInstanceOf(GithubAppCredentialsError);
    await expect(failure).rejects.toThrow(/GITHUB_APP_ID 999 does not match the private key/);
    await expect(failure).rejects.toMatchObject({ status: 401 });
  });

  it('says the same when an installation token is refused, and never retries a 401', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    useEnv({ GITHUB_APP_PRIVATE_KEY: other });
    const octokit = await installationClient(77);
    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toThrow(/does not match the private key/);
    expect(tokenRequests()).toBe(1);
  });

  it('names the variable when the key is not a PEM key, or not RSA', async () => {
    useEnv({ GITHUB_APP_PRIVATE_KEY: 'ssh-rsa AAAAB3Nza not a pem' });
    await expect(githubApp()).rejects.toThrow(/GITHUB_APP_PRIVATE_KEY is not a readable PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    useEnv({ GITHUB_APP_PRIVATE_KEY: ec });
    await expect(githubApp()).rejects.toThrow(/is a ec key; GitHub App keys are RSA/);
    useEnv({ GITHUB_APP_ID: 'codeguardian' });
    await expect(githubApp()).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('installationClient', () => {
  it('fetches one installation token for consecutive requests', async () => {
    const octokit = await installationClient(77);
    await octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' });
    await (await installationClient(77)).request('GET /repos/{owner}/{repo}/commits/{ref}', { owner: 'octo-org', repo: 'shop', ref: repo.headSha() });
    expect(tokenRequests()).toBe(1);
    expect(gh.requestsTo('GET', /^\/repos\/octo-org\/shop/)).toHaveLength(2);
  });

  it('retries a 502 with growing waits and succeeds', async () => {
    const octokit = await installationClient(77);
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 502, 2);
    const started = Date.now();
    const { data } = await octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' });
    expect(data.full_name).toBe('octo-org/shop');
    expect(gh.requestsTo('GET', /^\/repos\/octo-org\/shop$/)).toHaveLength(3);
    // waits of 1 and 4 backoff units (20 ms each here)
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('gives up on a 5xx after three retries', async () => {
    const octokit = await installationClient(77);
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 503, 4);
    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toMatchObject({ status: 503 });
    expect(gh.requestsTo('GET', /^\/repos\/octo-org\/shop$/)).toHaveLength(4);
    expect((await octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).status).toBe(200);
  });

  it('waits out a secondary rate limit for its retry-after, then fails after a bounded number of waits', async () => {
    useEnv({}, 1000);
    const octokit = await installationClient(77);
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 403, 1, { 'retry-after': '1' });
    const started = Date.now();
    await octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(gh.requestsTo('GET', /^\/repos\/octo-org\/shop$/)).toHaveLength(2);

    gh.requests.length = 0;
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 403, 3, { 'retry-after': '1' });
    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toMatchObject({ status: 403 });
    expect(gh.requestsTo('GET', /^\/repos\/octo-org\/shop$/)).toHaveLength(3);
    expect((await octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).status).toBe(200);
  }, 20_000);

  it('does not wait for a rate limit that resets too far ahead', async () => {
    useEnv({}, 1000);
    const octokit = await installationClient(77);
    gh.failNext('GET', /^\/repos\/octo-org\/shop$/, 403, 1, { 'retry-after': '3600' });
    const started = Date.now();
    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'octo-org', repo: 'shop' })).rejects.toMatchObject({ status: 403 });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps to its installation: another installation’s repository is not found', async () => {
    gh.addRepository({ owner: 'other-org', name: 'secret', installationId: 88, files: { 'x.py': 'pass\n' } });
    const octokit = await installationClient(77);
    await expect(octokit.request('GET /repos/{owner}/{repo}', { owner: 'other-org', repo: 'secret' })).rejects.toMatchObject({ status: 404 });
    await expect(installationClient(0)).rejects.toThrow('positive integer');
  });
});

describe('InstallationTokenCache', () => {
  const entry = (expiresAt: string) => ['ghs_x', '2026-11-23T10:00:00Z', expiresAt, 'selected', 'contents', ''].join('|');

  it('hands a token out until shortly before its expires_at, then forgets it', () => {
    let now = Date.parse('2026-11-23T10:00:00Z');
    const cache = new InstallationTokenCache(() => now);
    cache.set('77', entry('2026-11-23T11:00:00Z'));
    expect(cache.get('77')).toContain('ghs_x');
    now = Date.parse('2026-11-23T11:00:00Z') - TOKEN_REFRESH_MARGIN_MS - 1;
    expect(cache.get('77')).toContain('ghs_x');
    now += 2;
    expect(cache.get('77')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never hands out an entry whose expiry it cannot read', () => {
    const cache = new InstallationTokenCache();
    cache.set('77', 'ghs_x|created');
    expect(cache.get('77')).toBeUndefined();
    expect(cache.get('missing')).toBeUndefined();
  });
});
