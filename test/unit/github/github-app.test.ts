import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { setBaseEnv } from '../runtime/support/aws-local.ts';
import { FakeGitHub } from '../../support/fake-github/server.ts';

setBaseEnv();
const gh = await FakeGitHub.start();
const { clearSecretsCache } = await import('../../../shared/runtime/env.ts');
const { resetGithubClient } = await import('../../../shared/github/client.ts');
const { installedRepository } = await import('../../../shared/api/github-app.ts');

const repo = gh.addRepository({ owner: 'octo-org', name: 'shop', installationId: 77, defaultBranch: 'trunk', language: 'Go', files: { 'main.go': 'package main\n' } });

function useEnv(overrides: Record<string, string | undefined> = {}): void {
  for (const [name, value] of Object.entries({ ...gh.env(), GITHUB_APP_SLUG: undefined, ...overrides })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  clearSecretsCache();
  resetGithubClient({ backoffUnitMs: 20 });
}

beforeEach(() => useEnv());
afterAll(() => gh.close());

describe('installedRepository', () => {
  it('reads the repository through the installation the App has on it', async () => {
    expect(await installedRepository('octo-org/shop')).toEqual({
      githubRepoId: repo.id, installationId: 77, name: 'shop', fullName: 'octo-org/shop', owner: 'octo-org', private: true, language: 'Go', defaultBranch: 'trunk',
    });
  });

  it('answers 409 APP_NOT_INSTALLED with the install link built from the App slug GitHub reports', async () => {
    await expect(installedRepository('octo-org/elsewhere')).rejects.toMatchObject({
      status: 409, code: 'APP_NOT_INSTALLED', details: { installUrl: `${gh.baseUrl}/apps/${FakeGitHub.appSlug}/installations/new` },
    });
  });

  it('answers 503 GITHUB_APP_MISCONFIGURED, without the details, when GitHub refuses the App id or the key is unreadable', async () => {
    useEnv({ GITHUB_APP_ID: '31337' });
    const wrongId = installedRepository('octo-org/shop');
    await expect(wrongId).rejects.toMatchObject({ status: 503, code: 'GITHUB_APP_MISCONFIGURED' });
    await expect(wrongId).rejects.not.toThrow(/31337/);
    useEnv({ GITHUB_APP_PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----' });
    await expect(installedRepository('octo-org/shop')).rejects.toMatchObject({ status: 503, code: 'GITHUB_APP_MISCONFIGURED' });
  });

  it('answers 503 GITHUB_UNAVAILABLE when GitHub keeps failing', async () => {
    gh.failNext('GET', /^\/repos\/octo-org\/shop\/installation$/, 502, 4);
    await expect(installedRepository('octo-org/shop')).rejects.toMatchObject({ status: 503, code: 'GITHUB_UNAVAILABLE' });
  });
});
