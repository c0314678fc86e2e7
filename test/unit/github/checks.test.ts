import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { setBaseEnv } from '../runtime/support/aws-local.ts';
import { FakeGitHub } from '../../support/fake-github/server.ts';
import { installChecks } from '../../support/fake-github/checks.ts';
import type { Finding, Severity } from '../../../shared/analysis/types.ts';

jest.setTimeout(30_000);
setBaseEnv();
const gh = await FakeGitHub.start();
const checks = installChecks(gh);
Object.assign(process.env, gh.env());
const { resetGithubClient } = await import('../../../shared/github/client.ts');
resetGithubClient({ backoffUnitMs: 20 });
const { publishPullRequestCheck, checkConclusion, toAnnotation, ANNOTATIONS_PER_REQUEST } = await import('../../../shared/github/checks.ts');

const repo = gh.addRepository({ owner: 'octo-org', name: 'shop', installationId: 77, files: { 'src/a.js': 'eval(x)\n' } });
afterAll(() => gh.close());

let counter = 0;
function finding(severity: Severity, overrides: Partial<Finding['location']> = {}): Finding {
  counter++;
  const result: Finding = {
    ruleId: `js/rule-${counter}`,
    kind: 'rule',
    type: 'Code Injection',
    message: `Finding ${counter}`,
    severity,
    confidence: 'high',
    cwe: ['CWE-95'],
    location: { path: `src/file-${counter % 7}.js`, startLine: counter, startColumn: 3, endLine: counter, endColumn: 9, ...overrides },
    snippet: 'eval(x)',
    fingerprint: `fp-${counter}`,
  };
  return result;
}

describe('checkConclusion', () => {
  it('is neutral without new findings, failure for a new critical or high, neutral for the rest', () => {
    expect(checkConclusion([])).toBe('neutral');
    expect(checkConclusion([{ severity: 'low' }, { severity: 'medium' }, { severity: 'info' }])).toBe('neutral');
    expect(checkConclusion([{ severity: 'low' }, { severity: 'high' }])).toBe('failure');
    expect(checkConclusion([{ severity: 'critical' }])).toBe('failure');
  });
});

describe('toAnnotation', () => {
  it('maps severity to the annotation level and keeps columns only on single-line findings', () => {
    expect(toAnnotation(finding('critical'))).toMatchObject({ annotation_level: 'failure', start_column: 3, end_column: 9, title: 'CRITICAL: Code Injection (CWE-95)' });
    expect(toAnnotation(finding('medium')).annotation_level).toBe('warning');
    expect(toAnnotation(finding('info')).annotation_level).toBe('notice');
    const multi = toAnnotation(finding('low', { startLine: 4, endLine: 9 }));
    expect(multi).toMatchObject({ start_line: 4, end_line: 9, annotation_level: 'notice' });
    expect(multi).not.toHaveProperty('start_column');
  });
});

describe('publishPullRequestCheck', () => {
  const target = { installationId: 77, owner: 'octo-org', repo: 'shop' };

  it('publishes a neutral completed run without annotations when the pull request adds no findings', async () => {
    const headSha = gh.commit('octo-org/shop', { branch: 'clean', files: { 'README.md': '# hi\n' } });
    await publishPullRequestCheck({ ...target, headSha, scanId: 'scan-clean', newFindings: [], reportUrl: 'https://cg.example.com/scans/scan-clean' });
    const [run] = checks.runsFor('octo-org/shop', headSha);
    expect(run).toMatchObject({ name: 'CodeGuardian', status: 'completed', conclusion: 'neutral', external_id: 'scan-clean', details_url: 'https://cg.example.com/scans/scan-clean', requests: 1 });
    expect(run?.annotations).toEqual([]);
    expect(run?.output.title).toBe('No new security findings');
  });

  it('annotates each new finding, most severe first, and fails on a new high', async () => {
    const headSha = gh.commit('octo-org/shop', { branch: 'feature', files: { 'src/b.js': 'exec(y)\n' } });
    const newFindings = [finding('low'), finding('high'), finding('medium')];
    await publishPullRequestCheck({ ...target, headSha, scanId: 'scan-feature', newFindings });
    const [run] = checks.runsFor('octo-org/shop', headSha);
    expect(run?.conclusion).toBe('failure');
    expect(run?.annotations.map((a) => a.annotation_level)).toEqual(['failure', 'warning', 'notice']);
    expect(run?.annotations.map((a) => a.path)).toEqual([newFindings[1], newFindings[2], newFindings[0]].map((f) => f?.location.path));
    expect(run?.output.summary).toContain('3 new findings');
  });

  it('sends more than 50 annotations in batches of 50: one create and further updates of the same run', async () => {
    const headSha = gh.commit('octo-org/shop', { branch: 'big', files: { 'src/c.js': 'x\n' } });
    const newFindings = Array.from({ length: 2 * ANNOTATIONS_PER_REQUEST + 7 }, () => finding('medium'));
    gh.requests.length = 0;
    await publishPullRequestCheck({ ...target, headSha, scanId: 'scan-big', newFindings });
    const runs = checks.runsFor('octo-org/shop', headSha);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ conclusion: 'neutral', requests: 3 });
    expect(runs[0]?.annotations).toHaveLength(107);
    const sent = gh.requests.filter((r) => /check-runs/.test(r.path) && r.method !== 'GET');
    expect(sent.map((r) => [r.method, ((r.body as { output: { annotations: unknown[] } }).output.annotations).length])).toEqual([['POST', 50], ['PATCH', 50], ['PATCH', 7]]);
  });

  it('publishes once per scan: a retried step adds nothing', async () => {
    const headSha = gh.commit('octo-org/shop', { branch: 'retry', files: { 'src/d.js': 'x\n' } });
    const input = { ...target, headSha, scanId: 'scan-retry', newFindings: [finding('critical')] };
    await publishPullRequestCheck(input);
    await publishPullRequestCheck(input);
    const runs = checks.runsFor('octo-org/shop', headSha);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.annotations).toHaveLength(1);
  });

  it('completes the annotations of a run whose earlier attempt failed part-way, without doubling any', async () => {
    const headSha = gh.commit('octo-org/shop', { branch: 'partial', files: { 'src/e.js': 'x\n' } });
    const newFindings = Array.from({ length: 3 * ANNOTATIONS_PER_REQUEST + 3 }, () => finding('high'));
    const input = { ...target, headSha, scanId: 'scan-partial', newFindings };
    gh.failNext('PATCH', /\/check-runs\/\d+$/, 422);
    await expect(publishPullRequestCheck(input)).rejects.toMatchObject({ status: 422 });
    expect(checks.runsFor('octo-org/shop', headSha)[0]?.annotations).toHaveLength(ANNOTATIONS_PER_REQUEST);
    gh.requests.length = 0;
    // The retry finds the findings in another order: the batches are the same.
    await publishPullRequestCheck({ ...input, newFindings: [...newFindings].reverse() });
    const runs = checks.runsFor('octo-org/shop', headSha);
    expect(runs).toHaveLength(1);
    const messages = (runs[0]?.annotations ?? []).map((a) => a.message);
    expect(messages).toHaveLength(153);
    expect(new Set(messages).size).toBe(153);
    const sent = gh.requests.filter((r) => /check-runs/.test(r.path) && r.method !== 'GET');
    expect(sent.map((r) => [r.method, ((r.body as { output: { annotations: unknown[] } }).output.annotations).length])).toEqual([['PATCH', 50], ['PATCH', 50], ['PATCH', 3]]);
    await publishPullRequestCheck(input);
    expect(checks.runsFor('octo-org/shop', headSha)[0]?.annotations).toHaveLength(153);
  });

  it('fails loudly for a commit GitHub does not know or a repository outside the installation', async () => {
    await expect(publishPullRequestCheck({ ...target, headSha: 'f'.repeat(40), scanId: 'scan-x', newFindings: [] })).rejects.toMatchObject({ status: 422 });
    gh.addRepository({ owner: 'other-org', name: 'secret', installationId: 88, files: { 'x.py': 'pass\n' } });
    await expect(publishPullRequestCheck({ ...target, repo: 'secret', owner: 'other-org', headSha: repo.headSha(), scanId: 'scan-y', newFindings: [] })).rejects.toMatchObject({ status: 404 });
  });
});
