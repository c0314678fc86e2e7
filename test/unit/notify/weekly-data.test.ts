import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Finding, Severity } from '../../../shared/analysis/types.ts';
import { setBaseEnv, startDynamo } from '../runtime/support/aws-local.ts';

// The weekly report's figures from real stored findings: two scans, ten and two days ago, on DynamoDB Local.

jest.setTimeout(60_000);
setBaseEnv();
const dynamo = await startDynamo();
const { weeklyReportData } = await import('../../../shared/jobs/weekly.ts');
const { createUser } = await import('../../../shared/db/users.ts');
const { createRepository } = await import('../../../shared/db/repositories.ts');
const { newRepository } = await import('../../../shared/api/repositories.ts');
const { saveFindings } = await import('../../../shared/db/vulnerabilities.ts');
const { recordTrendSnapshot } = await import('../../../shared/db/trends.ts');

afterAll(() => dynamo.stop());

const DAY = 86_400_000;
const finding = (fingerprint: string, severity: Severity, line: number): Finding => ({
  ruleId: `js/rule-${fingerprint}`,
  kind: 'rule',
  type: 'Code Injection',
  message: `Finding ${fingerprint}`,
  severity,
  confidence: 'high',
  cwe: ['CWE-95'],
  location: { path: 'src/app.js', startLine: line, startColumn: 1, endLine: line, endColumn: 9 },
  snippet: 'eval(x)',
  fingerprint,
});

describe('weekly report data', () => {
  it('counts new and fixed findings of the week, open ones by severity, the score and the change since a week ago', async () => {
    const now = new Date('2026-11-23T08:00:00.000Z');
    const tag = randomUUID().slice(0, 8);
    const user = await createUser({ email: `w-${tag}@example.com`, username: `w-${tag}` });
    const repo = newRepository(user.id, { githubRepoId: 42, installationId: 1, name: 'shop', fullName: 'acme/shop', owner: 'acme', private: true, language: null, defaultBranch: 'main' });
    await createRepository(repo);
    const [a, b, c, d, e] = [finding('a', 'critical', 1), finding('b', 'high', 2), finding('c', 'low', 3), finding('d', 'medium', 4), finding('e', 'critical', 5)];

    const tenDaysAgo = new Date(now.getTime() - 10 * DAY);
    await saveFindings(repo.id, randomUUID(), [a, b, c], tenDaysAgo);
    await recordTrendSnapshot(user.id, tenDaysAgo);
    // Two days ago: a is gone (fixed), d and e are new.
    const twoDaysAgo = new Date(now.getTime() - 2 * DAY);
    await saveFindings(repo.id, randomUUID(), [b, c, d, e], twoDaysAgo);
    await recordTrendSnapshot(user.id, twoDaysAgo);

    const report = await weeklyReportData(user.id, now);
    expect(report).toMatchObject({
      repositories: 1,
      openBySeverity: { critical: 1, high: 1, medium: 1, low: 1, info: 0 },
      newThisWeek: 2,
      fixedThisWeek: 1,
      openChangeThisWeek: 1,
      scansCompleted: 0,
      since: '2026-11-16T08:00:00.000Z',
    });
    expect(report.securityScore).toBeLessThan(100);
    expect(report.lowestSecurityScore).toBe(report.securityScore);
    expect(report.atRisk).toEqual([{ fullName: 'acme/shop', securityScore: report.securityScore, open: 4 }]);
  });

  it('is an empty report for a user without repositories', async () => {
    const tag = randomUUID().slice(0, 8);
    const user = await createUser({ email: `w-${tag}@example.com`, username: `w-${tag}` });
    expect(await weeklyReportData(user.id)).toMatchObject({ repositories: 0, newThisWeek: 0, fixedThisWeek: 0, securityScore: null, lowestSecurityScore: null, openChangeThisWeek: 0, atRisk: [] });
  });
});
