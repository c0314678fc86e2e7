import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Services } from '../../../lib/local/stack.ts';
import { scanQuotaUsage } from '../../../shared/db/scan-quota.ts';
import { ENV } from '../../../shared/platform/declarations.ts';
import { completeWithReports, connectLocalRepository, finding, localRepoRoot, queuedScan } from './fixtures-b.ts';
import { startApi, type Api, type TestUser } from './support.ts';

jest.setTimeout(60_000);

interface Scan {
  readonly id: string;
  readonly repositoryId: string;
  readonly status: string;
  readonly trigger: string;
  readonly summary: Record<string, number> | null;
  readonly reportFormats: string[];
}
interface ScanList {
  readonly scans: Scan[];
  readonly total: number;
  readonly nextCursor: string | null;
}
interface ErrorBody {
  readonly code: string;
  readonly error: string;
}

let services: Services;
let api: Api;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  localRepoRoot();
  ({ services, api } = await startApi());
  [alice, bob] = await Promise.all([api.registerUser(), api.registerUser()]);
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

describe('GET /api/scans and /api/scans/{id}', () => {
  it('lists the caller’s scans newest first, by repository and status, and hides other users’ scans', async () => {
    const user = await api.registerUser();
    const one = await queuedScan(api, user);
    const two = await queuedScan(api, user);
    await completeWithReports(two.scanId, []);
    const all = await api.request<ScanList>('/api/scans', { token: user.token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.scans.map((s) => s.id)).toEqual([two.scanId, one.scanId]);
    const completed = await api.request<ScanList>('/api/scans?status=completed', { token: user.token });
    expect(completed.body.scans.map((s) => s.id)).toEqual([two.scanId]);
    expect(completed.body.total).toBe(1);
    const ofRepo = await api.request<ScanList>(`/api/scans?repositoryId=${one.repositoryId}`, { token: user.token });
    expect(ofRepo.body.scans.map((s) => s.id)).toEqual([one.scanId]);
    const paged = await api.request<ScanList>('/api/scans?limit=1', { token: user.token });
    expect(paged.body.scans).toHaveLength(1);
    expect(paged.body.nextCursor).not.toBeNull();

    expect((await api.request<ScanList>('/api/scans', { token: bob.token })).body.scans.map((s) => s.id)).not.toContain(one.scanId);
    expect((await api.request(`/api/scans?repositoryId=${one.repositoryId}`, { token: bob.token })).status).toBe(404);
    expect((await api.request('/api/scans?status=done', { token: user.token })).status).toBe(400);

    const repo = await api.request<{ scanStatus: string; lastScanAt: string | null; lastScanId: string }>(`/api/repositories/${two.repositoryId}`, { token: user.token });
    expect(repo.body).toMatchObject({ scanStatus: 'completed', lastScanAt: expect.any(String), lastScanId: two.scanId });
    const detail = await api.request<Scan>(`/api/scans/${two.scanId}`, { token: user.token });
    expect(detail.body).toMatchObject({ id: two.scanId, status: 'completed', reportFormats: ['json', 'sarif'], summary: expect.objectContaining({ total: 0 }) });
    const foreign = await api.request(`/api/scans/${two.scanId}`, { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Scan not found', code: 'NOT_FOUND' });
    expect((await api.request('/api/scans/not%20an%20id', { token: user.token })).status).toBe(400);
  });
});

describe('GET /api/scans/{id}/report', () => {
  it('answers 404 REPORT_NOT_READY until the reports are written, then JSON and SARIF', async () => {
    const { scanId } = await queuedScan(api, alice);
    const early = await api.request<ErrorBody>(`/api/scans/${scanId}/report`, { token: alice.token });
    expect(early.status).toBe(404);
    expect(early.body.code).toBe('REPORT_NOT_READY');

    await completeWithReports(scanId, [finding(randomUUID().slice(0, 8), { severity: 'critical' }), finding(randomUUID().slice(0, 8))]);
    const json = await api.request<{ summary: { findings: number; bySeverity: Record<string, number> }; findings: unknown[] }>(`/api/scans/${scanId}/report?format=json`, { token: alice.token });
    expect(json.status).toBe(200);
    expect(json.body.summary).toMatchObject({ findings: 2, bySeverity: { critical: 1, high: 1 } });
    const sarif = await api.request<{ version: string; runs: { results: unknown[] }[] }>(`/api/scans/${scanId}/report?format=sarif`, { token: alice.token });
    expect(sarif.status).toBe(200);
    expect(sarif.headers.get('content-type')).toMatch(/^application\/sarif\+json/);
    expect(sarif.body.version).toBe('2.1.0');
    expect(sarif.body.runs[0]?.results).toHaveLength(2);

    const pdf = await api.request<ErrorBody>(`/api/scans/${scanId}/report?format=pdf`, { token: alice.token });
    expect(pdf.status).toBe(400);
    expect(pdf.body.code).toBe('UNSUPPORTED_FORMAT');
    expect((await api.request(`/api/scans/${scanId}/report?format=xml`, { token: alice.token })).status).toBe(400);
    const foreign = await api.request(`/api/scans/${scanId}/report?format=json`, { token: bob.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({ error: 'Scan not found', code: 'NOT_FOUND' });
  });
});

describe('POST /api/scans/bulk', () => {
  it('queues one scan per repository', async () => {
    const user = await api.registerUser();
    const ids = [(await connectLocalRepository(api, user)).id, (await connectLocalRepository(api, user)).id];
    const res = await api.request<{ scans: Scan[]; rejected: unknown[] }>('/api/scans/bulk', { token: user.token, body: { repositoryIds: ids } });
    expect(res.status).toBe(202);
    expect(res.body.scans.map((s) => [s.repositoryId, s.status, s.trigger])).toEqual(ids.map((id) => [id, 'queued', 'bulk']));
    expect(res.body.rejected).toEqual([]);
  });

  it('queues nothing when one repository is not the caller’s, and rejects malformed bodies', async () => {
    const user = await api.registerUser();
    const own = (await connectLocalRepository(api, user)).id;
    const foreign = (await connectLocalRepository(api, bob)).id;
    const res = await api.request<ErrorBody>('/api/scans/bulk', { token: user.token, body: { repositoryIds: [own, foreign] } });
    expect(res.status).toBe(404);
    expect((await api.request<ScanList>('/api/scans', { token: user.token })).body.total).toBe(0);
    for (const body of [{}, { repositoryIds: [] }, { repositoryIds: ['bad id'] }, { repositoryIds: own }, { repositoryIds: Array.from({ length: 51 }, () => own) }]) {
      expect((await api.request('/api/scans/bulk', { token: user.token, body })).status).toBe(400);
    }
  });

  it('counts each scan against the quota, listing the repositories past it', async () => {
    const user = await api.registerUser();
    const ids = [(await connectLocalRepository(api, user)).id, (await connectLocalRepository(api, user)).id];
    process.env.RATE_LIMIT_FREE_TIER = '1';
    try {
      const res = await api.request<{ scans: Scan[]; rejected: { repositoryId: string; code: string }[] }>('/api/scans/bulk', { token: user.token, body: { repositoryIds: ids } });
      expect(res.status).toBe(202);
      expect(res.body.scans.map((s) => s.repositoryId)).toEqual([ids[0]]);
      expect(res.body.rejected).toEqual([{ repositoryId: ids[1], error: expect.any(String), code: 'SCAN_QUOTA_EXCEEDED' }]);
      const none = await api.request<ErrorBody>('/api/scans/bulk', { token: user.token, body: { repositoryIds: ids } });
      expect(none.status).toBe(429);
      expect(none.body.code).toBe('SCAN_QUOTA_EXCEEDED');
    } finally {
      delete process.env.RATE_LIMIT_FREE_TIER;
    }
  });
});

describe('a scan whose job cannot be queued', () => {
  /** Runs `fn` with the scan-jobs queue pointing at a queue that does not exist, so every SendMessage fails. */
  async function withBrokenQueue<T>(fn: () => Promise<T>): Promise<T> {
    const url = process.env[ENV.scanJobsQueueUrl] as string;
    process.env[ENV.scanJobsQueueUrl] = `${url}-missing`;
    try {
      return await fn();
    } finally {
      process.env[ENV.scanJobsQueueUrl] = url;
    }
  }

  it('leaves no queued scan, no repository scan state, no activity and gives the quota back', async () => {
    const user = await api.registerUser();
    const repo = await connectLocalRepository(api, user);
    process.env.RATE_LIMIT_FREE_TIER = '1';
    try {
      const failed = await withBrokenQueue(() => api.request<ErrorBody>(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} }));
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ error: expect.any(String), code: 'SCAN_QUEUE_UNAVAILABLE' });
      expect((await api.request<ScanList>('/api/scans', { token: user.token })).body).toMatchObject({ scans: [], total: 0 });
      const state = await api.request<{ scanStatus: string; lastScanId: string | null }>(`/api/repositories/${repo.id}`, { token: user.token });
      expect(state.body).toMatchObject({ scanStatus: 'never', lastScanId: null });
      const events = await api.request<{ events: { type: string }[] }>('/api/dashboard/activity', { token: user.token });
      expect(events.body.events.map((e) => e.type)).not.toContain('scan_queued');
      expect((await scanQuotaUsage(user.id, 'free')).used).toBe(0);

      // The unit given back is usable: with a limit of one, the next scan is queued and the one after refused.
      const queued = await api.request<Scan>(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} });
      expect(queued.status).toBe(202);
      expect((await scanQuotaUsage(user.id, 'free')).used).toBe(1);
      const refused = await api.request<ErrorBody>(`/api/repositories/${repo.id}/scan`, { token: user.token, body: {} });
      expect([refused.status, refused.body.code]).toEqual([429, 'SCAN_QUOTA_EXCEEDED']);
      expect((await api.request<ScanList>('/api/scans', { token: user.token })).body.scans.map((s) => s.id)).toEqual([queued.body.id]);
    } finally {
      delete process.env.RATE_LIMIT_FREE_TIER;
    }
  });

  it('counts nothing and leaves no scan behind when a bulk request cannot queue its jobs', async () => {
    const user = await api.registerUser();
    const ids = [(await connectLocalRepository(api, user)).id, (await connectLocalRepository(api, user)).id];
    process.env.RATE_LIMIT_FREE_TIER = '2';
    try {
      const failed = await withBrokenQueue(() => api.request<ErrorBody>('/api/scans/bulk', { token: user.token, body: { repositoryIds: ids } }));
      expect([failed.status, failed.body.code]).toEqual([503, 'SCAN_QUEUE_UNAVAILABLE']);
      expect((await api.request<ScanList>('/api/scans', { token: user.token })).body.total).toBe(0);
      expect((await scanQuotaUsage(user.id, 'free')).used).toBe(0);
      const res = await api.request<{ scans: Scan[] }>('/api/scans/bulk', { token: user.token, body: { repositoryIds: [...ids, ids[0]] } });
      expect(res.status).toBe(202);
      expect(res.body.scans).toHaveLength(2);
      expect((await scanQuotaUsage(user.id, 'free')).used).toBe(2);
    } finally {
      delete process.env.RATE_LIMIT_FREE_TIER;
    }
  });
});
