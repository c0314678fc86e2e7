import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { startApi, type Api } from './support.ts';
import type { Services } from '../../../lib/local/stack.ts';
import { getItem } from '../../../shared/db/client.ts';
import { consumeScanQuota, scanQuotaUsage } from '../../../shared/db/scan-quota.ts';
import { AppError, TooManyRequestsError } from '../../../shared/http/errors.ts';
import { enforcePublicRateLimit } from '../../../shared/http/rate-limit.ts';
import { httpEvent } from '../../unit/http/support/events.ts';

jest.setTimeout(60_000);

let services: Services;
let api: Api;

beforeAll(async () => {
  ({ services, api } = await startApi());
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

const saved = { public: process.env.RATE_LIMIT_PUBLIC, user: process.env.RATE_LIMIT_USER, free: process.env.RATE_LIMIT_FREE_TIER, pro: process.env.RATE_LIMIT_PRO_TIER };
afterEach(() => {
  const restore = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  restore('RATE_LIMIT_PUBLIC', saved.public);
  restore('RATE_LIMIT_USER', saved.user);
  restore('RATE_LIMIT_FREE_TIER', saved.free);
  restore('RATE_LIMIT_PRO_TIER', saved.pro);
});

describe('rate limits through httpRoute', () => {
  it('limits an authenticated user per hour: 429 with Retry-After past the limit, other users unaffected', async () => {
    const [user, other] = await Promise.all([api.registerUser(), api.registerUser()]);
    process.env.RATE_LIMIT_USER = '5';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await api.request('/api/auth/me', { token: user.token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await api.request<{ code: string; retryAfter: number }>('/api/auth/me', { token: user.token });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limited.body.retryAfter).toBe(retryAfter);
    expect((await api.request('/api/auth/me', { token: other.token })).status).toBe(200);
  });

  it('limits public routes per source IP, before the body is looked at', async () => {
    process.env.RATE_LIMIT_PUBLIC = '3';
    const statuses: number[] = [];
    // Other suites share 127.0.0.1's window, so the limit may already be reached: a 429 comes within four requests.
    for (let i = 0; i < 4; i += 1) statuses.push((await api.request('/api/auth/login', { body: { nonsense: true } })).status);
    expect(statuses).toContain(429);
    expect(statuses.slice(statuses.indexOf(429)).every((s) => s === 429)).toBe(true);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 400)).toBe(true);
    const limited = await api.request('/api/auth/register', { body: {} });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(900);
  });

  it('counts per IP in 15-minute windows kept in the table with a TTL', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const event = httpEvent();
    const fromIp = { ...event, requestContext: { ...event.requestContext, http: { ...event.requestContext.http, sourceIp: ip } } };
    process.env.RATE_LIMIT_PUBLIC = '2';
    await enforcePublicRateLimit(fromIp);
    await enforcePublicRateLimit(fromIp);
    const error = await enforcePublicRateLimit(fromIp).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyRequestsError);
    const now = Math.floor(Date.now() / 1000);
    const windowStart = now - (now % 900);
    const item = await getItem<{ count: number; expiresAt: number }>({ pk: `RATE#ip#${ip}`, sk: String(windowStart) });
    expect(item?.count).toBe(3);
    expect(item?.expiresAt).toBe(windowStart + 1800);
  });
});

describe('daily scan quota', () => {
  it('allows RATE_LIMIT_FREE_TIER scans a day on the free tier, then 429 SCAN_QUOTA_EXCEEDED until UTC midnight', async () => {
    process.env.RATE_LIMIT_FREE_TIER = '3';
    const userId = randomUUID();
    // 22:00 UTC today: quota items expire two days after they are written, so the day must be a current one.
    const today = new Date();
    today.setUTCHours(22, 0, 0, 0);
    const now = today.getTime();
    for (let i = 1; i <= 3; i += 1) expect(await consumeScanQuota(userId, 'free', now)).toEqual({ used: i, limit: 3 });
    const error = (await consumeScanQuota(userId, 'free', now).catch((e: unknown) => e)) as AppError;
    expect(error).toBeInstanceOf(TooManyRequestsError);
    expect(error.code).toBe('SCAN_QUOTA_EXCEEDED');
    expect(error.headers['Retry-After']).toBe(String(2 * 3600));
    // The refused scan was not counted, and the next UTC day starts afresh.
    expect((await scanQuotaUsage(userId, 'free', now)).used).toBe(3);
    expect(await consumeScanQuota(userId, 'free', now + 2 * 3600 * 1000 + 1000)).toEqual({ used: 1, limit: 3 });
  });

  it('defaults to 10 a day for free and unlimited for pro, writing nothing for an unlimited tier', async () => {
    delete process.env.RATE_LIMIT_FREE_TIER;
    delete process.env.RATE_LIMIT_PRO_TIER;
    const userId = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => consumeScanQuota(userId, 'free')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(2);
    const pro = randomUUID();
    for (let i = 0; i < 15; i += 1) expect((await consumeScanQuota(pro, 'pro')).limit).toBe(Number.POSITIVE_INFINITY);
    expect((await scanQuotaUsage(pro, 'pro')).used).toBe(0);
  });

  it('honours a finite pro limit and a zero free limit', async () => {
    process.env.RATE_LIMIT_PRO_TIER = '1';
    process.env.RATE_LIMIT_FREE_TIER = '0';
    const userId = randomUUID();
    await consumeScanQuota(userId, 'pro');
    await expect(consumeScanQuota(userId, 'pro')).rejects.toThrow(TooManyRequestsError);
    await expect(consumeScanQuota(randomUUID(), 'free')).rejects.toThrow('Daily scan quota of 0 reached');
  });
});

