import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApi, type Api, type AuthAnswer, type TestUser } from './support.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { signAccessToken } from '../../../shared/http/auth.ts';
import { getItem } from '../../../shared/db/client.ts';

interface ErrorAnswer {
  readonly error: string;
  readonly code: string;
  readonly reason?: string;
  readonly issues?: { path: string; message: string }[];
}

jest.setTimeout(60_000);

let services: Services;
let api: Api;

beforeAll(async () => {
  ({ services, api } = await startApi());
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

const unique = () => Math.random().toString(36).slice(2, 10);

describe('POST /api/auth/register', () => {
  it('creates the user, answers 201 with tokens and the public user, and stores only an scrypt hash', async () => {
    const email = `Ann.${unique()}@Example.com`;
    const res = await api.request<AuthAnswer>('/api/auth/register', { body: { email, username: `ann-${unique()}`, password: 'a long enough password' } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['refreshToken', 'token', 'user']);
    expect(res.body.user).toMatchObject({ email, subscription: 'free' });
    expect(res.body.user.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(res.body)).not.toMatch(/passwordHash|scrypt/);
    const stored = await getItem<{ passwordHash: string; email: string }>({ pk: `USER#${res.body.user.id}`, sk: 'PROFILE' });
    expect(stored?.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(stored?.passwordHash).not.toContain('a long enough password');
    const me = await api.request<{ user: AuthAnswer['user'] }>('/api/auth/me', { token: res.body.token });
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(res.body.user);
  });

  it('answers 400 with every field issue for malformed input, and writes nothing', async () => {
    const email = `bad-${unique()}@example.com`;
    const res = await api.request<ErrorAnswer>('/api/auth/register', { body: { email: 'not-an-email', password: 'short', username: '-bad name-' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_ERROR');
    expect(res.body.issues?.map((i) => i.path).sort()).toEqual(['body.email', 'body.password', 'body.username']);
    const missing = await api.request<ErrorAnswer>('/api/auth/register', { body: { email } });
    expect(missing.status).toBe(400);
    expect(missing.body.issues?.map((i) => i.path).sort()).toEqual(['body.password', 'body.username']);
    expect(await getItem({ pk: `UNIQUE#EMAIL#${email}`, sk: 'UNIQUE' })).toBeUndefined();
    const notJson = await api.request<ErrorAnswer>('/api/auth/register', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('INVALID_JSON');
    const noBody = await api.request<ErrorAnswer>('/api/auth/register', { method: 'POST' });
    expect(noBody.status).toBe(400);
  });

  it('accepts exactly 12 characters and refuses 11', async () => {
    const eleven = await api.request<ErrorAnswer>('/api/auth/register', { body: { email: `p-${unique()}@example.com`, username: `p-${unique()}`, password: '12345678901' } });
    expect(eleven.status).toBe(400);
    expect(eleven.body.issues).toEqual([{ path: 'body.password', message: 'Must be at least 12 characters' }]);
    const twelve = await api.request('/api/auth/register', { body: { email: `p-${unique()}@example.com`, username: `p-${unique()}`, password: '123456789012' } });
    expect(twelve.status).toBe(201);
  });

  it('answers 409 for a taken email (any case) or username (any case), and the refused user leaves no trace', async () => {
    const first = await api.registerUser();
    const sameEmail = await api.request<ErrorAnswer>('/api/auth/register', { body: { email: first.email.toUpperCase(), username: `other-${unique()}`, password: 'another password!' } });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.code).toBe('EMAIL_TAKEN');
    const freshEmail = `fresh-${unique()}@example.com`;
    const sameName = await api.request<ErrorAnswer>('/api/auth/register', { body: { email: freshEmail, username: first.username.toUpperCase(), password: 'another password!' } });
    expect(sameName.status).toBe(409);
    expect(sameName.body.code).toBe('USERNAME_TAKEN');
    // The transaction wrote nothing: the fresh email is still free.
    expect(await getItem({ pk: `UNIQUE#EMAIL#${freshEmail}`, sk: 'UNIQUE' })).toBeUndefined();
    const retry = await api.request('/api/auth/register', { body: { email: freshEmail, username: `free-${unique()}`, password: 'another password!' } });
    expect(retry.status).toBe(201);
  });

  it('lets only one of two simultaneous registrations of the same email through', async () => {
    const email = `race-${unique()}@example.com`;
    const answers = await Promise.all(
      [1, 2, 3].map((i) => api.request('/api/auth/register', { body: { email, username: `race-${i}-${unique()}`, password: 'racing password' } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
  });
});

describe('POST /api/auth/login', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await api.registerUser();
  });

  it('answers { token, refreshToken, user } for the right password, with any email case', async () => {
    const res = await api.request<AuthAnswer>('/api/auth/login', { body: { email: user.email.toUpperCase(), password: user.password } });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
    expect(res.body.token.split('.')).toHaveLength(3);
    expect(res.body.refreshToken).toMatch(/^[\w-]{43}$/);
  });

  it('answers the same 401 for a wrong password and an unknown email, in similar time', async () => {
    const wrong = await api.request<ErrorAnswer>('/api/auth/login', { body: { email: user.email, password: 'not the password' } });
    const unknown = await api.request<ErrorAnswer>('/api/auth/login', { body: { email: `nobody-${unique()}@example.com`, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    const time = async (email: string) => {
      const started = performance.now();
      await api.request('/api/auth/login', { body: { email, password: 'not the password' } });
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const wrongTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      wrongTimes.push(await time(user.email));
      unknownTimes.push(await time(`nobody-${unique()}@example.com`));
    }
    // Both paths run one scrypt (tens of milliseconds); without the decoy the unknown email would answer far faster.
    expect(median(unknownTimes)).toBeGreaterThan(median(wrongTimes) * 0.5);
    expect(median(wrongTimes)).toBeGreaterThan(median(unknownTimes) * 0.5);
  });

  it('answers 400 for malformed credentials', async () => {
    const res = await api.request<ErrorAnswer>('/api/auth/login', { body: { email: 42, password: '' } });
    expect(res.status).toBe(400);
    expect(res.body.issues?.map((i) => i.path).sort()).toEqual(['body.email', 'body.password']);
  });
});

describe('POST /api/auth/refresh', () => {
  it('rotates: the new pair works, the old refresh token is spent', async () => {
    const user = await api.registerUser();
    const first = await api.request<AuthAnswer>('/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    expect(first.body.user.id).toBe(user.id);
    expect((await api.request('/api/auth/me', { token: first.body.token })).status).toBe(200);
    const second = await api.request<AuthAnswer>('/api/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
    expect(second.status).toBe(200);
  });

  it('treats reuse of a rotated token as theft: 401 and the whole session is revoked', async () => {
    const user = await api.registerUser();
    const rotated = await api.request<AuthAnswer>('/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);
    const reuse = await api.request<ErrorAnswer>('/api/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.reason).toBe('REFRESH_TOKEN_REUSED');
    // The legitimate holder's newer token is revoked with the family.
    const after = await api.request<ErrorAnswer>('/api/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
    expect(after.status).toBe(401);
    // Another session of the same user is untouched.
    const other = await api.loginAs(user);
    expect((await api.request('/api/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(200);
  });

  it('refuses an unknown token with 401 and a malformed body with 400', async () => {
    const unknown = await api.request<ErrorAnswer>('/api/auth/refresh', { body: { refreshToken: 'x'.repeat(43) } });
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('UNAUTHORIZED');
    const malformed = await api.request<ErrorAnswer>('/api/auth/refresh', { body: { refreshToken: 12 } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.issues?.[0]?.path).toBe('body.refreshToken');
  });

  it('lets exactly one of two simultaneous uses of the same token succeed', async () => {
    const user = await api.registerUser();
    const answers = await Promise.all([1, 2].map(() => api.request('/api/auth/refresh', { body: { refreshToken: user.refreshToken } })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
  });
});

describe('POST /api/auth/logout and GET /api/auth/me', () => {
  it('revokes the access token until it expires and the session refresh tokens; other sessions stay', async () => {
    const user = await api.registerUser();
    const other = await api.loginAs(user);
    const res = await api.request<{ message: string }>('/api/auth/logout', { method: 'POST', token: user.token });
    expect(res.status).toBe(200);
    const me = await api.request<ErrorAnswer>('/api/auth/me', { token: user.token });
    expect(me.status).toBe(401);
    expect(me.body.error).toBe('The token has been revoked');
    expect((await api.request('/api/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await api.request('/api/auth/me', { token: other.token })).status).toBe(200);
    expect((await api.request('/api/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(200);
    const payload = JSON.parse(Buffer.from(user.token.split('.')[1] as string, 'base64url').toString()) as { jti: string; userId: string; exp: number };
    const access = await getItem<{ revoked: Record<string, number> }>({ pk: `USER#${payload.userId}`, sk: 'ACCESS' });
    expect(access?.revoked).toEqual({ [payload.jti]: payload.exp });
  });

  it('answers 401 without a token, with a bad, an expired or a forged token', async () => {
    const user = await api.registerUser();
    expect((await api.request('/api/auth/me')).status).toBe(401);
    expect((await api.request('/api/auth/me', { token: 'not.a.jwt' })).status).toBe(401);
    const expired = await signAccessToken({ userId: user.id, email: user.email, subscription: 'free' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const answer = await api.request<ErrorAnswer>('/api/auth/me', { token: expired });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('The token has expired');
    const [header, body] = user.token.split('.');
    expect((await api.request('/api/auth/me', { token: `${header}.${body}.${'A'.repeat(43)}` })).status).toBe(401);
  });
});
