import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeGithub, githubAccount as account, startApi, type Api, type AuthAnswer } from './support.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { getItem } from '../../../shared/db/client.ts';
import { decryptToken, encryptToken, KMS_KEY_ENV } from '../../../shared/runtime/token-crypto.ts';

jest.setTimeout(60_000);

interface ErrorAnswer {
  readonly error: string;
  readonly code: string;
}

let github: FakeGithub;
let services: Services;
let api: Api;

const callback = (code: string, token?: string) =>
  api.request<AuthAnswer & ErrorAnswer>('/api/auth/github/callback', { body: { code }, token });

const storedUser = (id: string) =>
  getItem<{ githubToken?: string; githubId?: number; githubLogin?: string; email: string }>({ pk: `USER#${id}`, sk: 'PROFILE' });

beforeAll(async () => {
  github = new FakeGithub();
  await github.start();
  github.configure();
  ({ services, api } = await startApi());
}, 60_000);
afterAll(async () => {
  await services?.stop();
  await github?.close();
});
beforeEach(() => {
  process.env.GITHUB_API_URL = `${github.base}/api/v3`;
  delete process.env[KMS_KEY_ENV];
});

describe('POST /api/auth/github/callback', () => {
  it('signs up a new user from the GitHub profile and stores the GitHub token encrypted, bound to the user', async () => {
    const octo = account();
    const res = await callback(github.codeFor(octo));
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: octo.email, username: octo.login, githubLogin: octo.login, subscription: 'free' });
    const accessToken = [...github.tokens.entries()].find(([, a]) => a === octo)?.[0] ?? 'missing';
    const stored = await storedUser(res.body.user.id);
    expect(stored?.githubId).toBe(octo.id);
    expect(stored?.githubToken).toMatch(/^v1\.local\./);
    expect(stored?.githubToken).not.toContain(accessToken);
    expect(await decryptToken(stored?.githubToken ?? '', res.body.user.id)).toBe(accessToken);
    await expect(decryptToken(stored?.githubToken ?? '', randomUUID())).rejects.toThrow(/cannot be decrypted/);
    expect(JSON.stringify(res.body)).not.toContain('gho_');
    expect((await api.request('/api/auth/me', { token: res.body.token })).status).toBe(200);
  });

  it('signs the same user in again on a later code and replaces the stored token', async () => {
    const octo = account();
    const first = await callback(github.codeFor(octo));
    const before = (await storedUser(first.body.user.id))?.githubToken;
    const second = await callback(github.codeFor(octo));
    expect(second.status).toBe(200);
    expect(second.body.user.id).toBe(first.body.user.id);
    const after = (await storedUser(first.body.user.id))?.githubToken;
    expect(after).not.toBe(before);
    const latest = [...github.tokens.entries()].filter(([, a]) => a === octo).map(([t]) => t).pop();
    expect(await decryptToken(after ?? '', first.body.user.id)).toBe(latest);
  });

  it('reads /user/emails when the profile email is private and takes the primary verified address', async () => {
    const octo = account({ email: null });
    octo.emails = [
      { email: `old-${octo.login}@example.com`, primary: false, verified: true, visibility: null },
      { email: `unverified-${octo.login}@example.com`, primary: false, verified: false, visibility: null },
      { email: `main-${octo.login}@example.com`, primary: true, verified: true, visibility: 'private' },
    ];
    const seen = github.requests.length;
    const res = await callback(github.codeFor(octo));
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(`main-${octo.login}@example.com`);
    expect(github.requests.slice(seen)).toEqual(['POST /login/oauth/access_token', 'GET /api/v3/user', 'GET /api/v3/user/emails']);
  });

  it('refuses an account with no verified email and creates nothing', async () => {
    const octo = account({ email: null, emails: [{ email: 'x@example.com', primary: true, verified: false, visibility: null }] });
    const res = await callback(github.codeFor(octo));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('GITHUB_EMAIL_UNAVAILABLE');
    expect(await getItem({ pk: `UNIQUE#GITHUB#${octo.id}`, sk: 'UNIQUE' })).toBeUndefined();
  });

  it('links GitHub to the existing account with the same email; the password still works', async () => {
    const user = await api.registerUser();
    const octo = account({ email: user.email, emails: [{ email: user.email, primary: true, verified: true, visibility: 'public' }] });
    const res = await callback(github.codeFor(octo));
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, username: user.username, githubLogin: octo.login });
    expect((await api.loginAs(user)).id).toBe(user.id);
  });

  it('with a Bearer token links GitHub to that user, whatever the GitHub email', async () => {
    const user = await api.registerUser();
    const octo = account();
    const res = await callback(github.codeFor(octo), user.token);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, email: user.email, githubLogin: octo.login });
    expect((await storedUser(user.id))?.githubId).toBe(octo.id);
  });

  it('answers 409 when the GitHub account belongs to another user, or the user has another GitHub account', async () => {
    const octo = account();
    const owner = await callback(github.codeFor(octo));
    expect(owner.status).toBe(200);
    const other = await api.registerUser();
    const taken = await callback(github.codeFor(octo), other.token);
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('GITHUB_ACCOUNT_IN_USE');
    expect((await storedUser(other.id))?.githubId).toBeUndefined();
    const second = await callback(github.codeFor(account()), owner.body.token);
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('GITHUB_ALREADY_LINKED');
  });

  it('gives a new user the GitHub login with the id appended when the username is taken', async () => {
    const existing = await api.registerUser();
    const octo = account({ login: existing.username });
    const res = await callback(github.codeFor(octo));
    expect(res.status).toBe(200);
    expect(res.body.user.username).toBe(`${existing.username}-${octo.id}`);
  });

  it('answers 400 GITHUB_OAUTH_FAILED for a code GitHub refuses, and 400 VALIDATION_ERROR without a code', async () => {
    const bad = await callback('not-a-real-code');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'GITHUB_OAUTH_FAILED', reason: 'bad_verification_code' });
    const none = await api.request<ErrorAnswer>('/api/auth/github/callback', { body: {} });
    expect(none.status).toBe(400);
    expect(none.body.code).toBe('VALIDATION_ERROR');
  });

  it('answers 401 for a bad Bearer token before the code is spent', async () => {
    const octo = account();
    const code = github.codeFor(octo);
    const res = await callback(code, 'not.a.token');
    expect(res.status).toBe(401);
    expect(github.codes.has(code)).toBe(true);
  });

  it('answers 503 GITHUB_UNAVAILABLE when the GitHub API does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    process.env.GITHUB_API_URL = `http://127.0.0.1:${port}/api/v3`;
    const res = await callback(github.codeFor(account()));
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('GITHUB_UNAVAILABLE');
  });
});

/** A loopback KMS (JSON 1.1 protocol): data keys wrapped under a master key, the encryption context authenticated. */
async function startFakeKms(): Promise<{ endpoint: string; targets: string[]; close: () => Promise<void> }> {
  const { createCipheriv, createDecipheriv } = await import('node:crypto');
  const master = randomBytes(32);
  const targets: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      targets.push(target);
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { CiphertextBlob?: string; EncryptionContext?: Record<string, string> };
      const aad = Buffer.from(JSON.stringify(Object.entries(input.EncryptionContext ?? {}).sort()));
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target === 'TrentService.GenerateDataKey') {
        const key = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', master, iv).setAAD(aad);
        const wrapped = Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
        return send(200, { KeyId: 'arn:aws:kms:us-east-1:000000000000:key/test', Plaintext: key.toString('base64'), CiphertextBlob: wrapped.toString('base64') });
      }
      if (target === 'TrentService.Decrypt') {
        const blob = Buffer.from(input.CiphertextBlob ?? '', 'base64');
        try {
          const decipher = createDecipheriv('aes-256-gcm', master, blob.subarray(0, 12)).setAAD(aad);
          decipher.setAuthTag(blob.subarray(blob.length - 16));
          const key = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
          return send(200, { KeyId: 'arn:aws:kms:us-east-1:000000000000:key/test', Plaintext: key.toString('base64') });
        } catch {
          return send(400, { __type: 'InvalidCiphertextException', message: 'The ciphertext is invalid' });
        }
      }
      return send(400, { __type: 'UnknownOperationException' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { endpoint, targets, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('GitHub token encryption with KMS (TOKEN_ENCRYPTION_KMS_KEY_ID set)', () => {
  it('envelope-encrypts with a fresh data key bound to the owner, and decrypts only for that owner', async () => {
    const kms = await startFakeKms();
    process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
    process.env[KMS_KEY_ENV] = 'alias/codeguardian-tokens';
    try {
      const octo = account();
      const res = await callback(github.codeFor(octo));
      expect(res.status).toBe(200);
      const stored = (await storedUser(res.body.user.id))?.githubToken ?? '';
      expect(stored).toMatch(/^v1\.kms\.[\w-]+\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
      const accessToken = [...github.tokens.entries()].find(([, a]) => a === octo)?.[0];
      expect(await decryptToken(stored, res.body.user.id)).toBe(accessToken);
      await expect(decryptToken(stored, randomUUID())).rejects.toThrow(/KMS refused/);
      const twice = [await encryptToken('same', 'u1'), await encryptToken('same', 'u1')];
      expect(twice[0]).not.toBe(twice[1]);
      expect(kms.targets.filter((t) => t === 'TrentService.GenerateDataKey')).toHaveLength(3);
      const tampered = stored.replace(/\.([\w-])([\w-]*)$/, (_, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}`);
      await expect(decryptToken(tampered, res.body.user.id)).rejects.toThrow(/cannot be decrypted/);
    } finally {
      delete process.env[KMS_KEY_ENV];
      await kms.close();
    }
  });
});
