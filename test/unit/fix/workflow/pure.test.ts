import { describe, expect, it } from '@jest/globals';
import { applyPatch } from 'diff';
import { setBaseEnv } from '../../runtime/support/aws-local.ts';

setBaseEnv();
const { judgeLimits, fixLimits, startOfUtcDay } = await import('../../../../shared/fix/limits.ts');
const { fixBody, fixTitle, fixCommitMessage } = await import('../../../../shared/fix/pull-request-body.ts');
const { unifiedDiff, diffStat } = await import('../../../../shared/fix/diff.ts');
const { compatScanFix, namesFinding } = await import('../../../../shared/fix/compat.ts');
const { fixBranchName, vulnerabilityIdOfBranch } = await import('../../../../shared/fix/pull-requests.ts');
const { isSafeRepoPath } = await import('../../../../shared/fix/local-git.ts');
const { scanFiles } = await import('../../../../shared/analysis/scanner.ts');

const user = { userId: 'user-1', email: 'u@example.com', subscription: 'free' as const, iat: 0, exp: 0, jti: 'j' };

const HASH_JS = `const crypto = require('crypto');
function digest(value) {
  return crypto.createHash('md5').update(value).digest('hex');
}
module.exports = { digest };
`;

describe('fix pull request limits', () => {
  const limits = { maxOpen: 2, maxPerDay: 3 };
  const now = new Date('2026-11-23T18:00:00Z');

  it('allow a fix below both limits', () => {
    expect(judgeLimits({ open: 1, today: 2 }, limits, now)).toEqual({ ok: true, open: 1, today: 2 });
  });

  it('refuse at the open limit, naming the count and the limit', () => {
    const verdict = judgeLimits({ open: 2, today: 0 }, limits, now);
    expect(verdict).toMatchObject({ ok: false, code: 'OPEN_FIX_PR_LIMIT' });
    expect(!verdict.ok && verdict.reason).toContain('2 open fix pull requests (limit 2)');
  });

  it('refuse at the daily limit until the next UTC midnight', () => {
    const verdict = judgeLimits({ open: 0, today: 3 }, limits, now);
    expect(verdict).toMatchObject({ ok: false, code: 'DAILY_FIX_PR_LIMIT', retryAfterSeconds: 6 * 3600 });
    expect(startOfUtcDay(now).toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });

  it('read FIX_PR_MAX_OPEN / FIX_PR_MAX_PER_DAY with defaults, and refuse bad values', () => {
    delete process.env.FIX_PR_MAX_OPEN;
    delete process.env.FIX_PR_MAX_PER_DAY;
    expect(fixLimits()).toEqual({ maxOpen: 5, maxPerDay: 10 });
    process.env.FIX_PR_MAX_OPEN = '0';
    process.env.FIX_PR_MAX_PER_DAY = '25';
    expect(fixLimits()).toEqual({ maxOpen: 0, maxPerDay: 25 });
    expect(judgeLimits({ open: 0, today: 0 }, fixLimits(), now)).toMatchObject({ ok: false, code: 'OPEN_FIX_PR_LIMIT' });
    process.env.FIX_PR_MAX_OPEN = 'lots';
    expect(() => fixLimits()).toThrow('FIX_PR_MAX_OPEN must be a non-negative integer');
    process.env.FIX_PR_MAX_OPEN = '-1';
    expect(() => fixLimits()).toThrow('FIX_PR_MAX_OPEN');
    delete process.env.FIX_PR_MAX_OPEN;
    delete process.env.FIX_PR_MAX_PER_DAY;
  });
});

describe('fix branches', () => {
  it('name the vulnerability and read back only well-formed ids', () => {
    expect(fixBranchName('0b7c-42')).toBe('codeguardian-fix-0b7c-42');
    expect(vulnerabilityIdOfBranch('codeguardian-fix-0b7c-42')).toBe('0b7c-42');
    expect(vulnerabilityIdOfBranch('feature/codeguardian-fix-1')).toBeUndefined();
    expect(vulnerabilityIdOfBranch('codeguardian-fix-')).toBeUndefined();
    expect(vulnerabilityIdOfBranch('codeguardian-fix-a/b')).toBeUndefined();
  });

  it('only accept repository-relative paths', () => {
    expect(isSafeRepoPath('src/app.js')).toBe(true);
    for (const bad of ['', '/etc/passwd', '../x.js', 'src/../../x.js', 'src//a.js', './a.js', '.git/config', 'a\\b.js', 'a\0.js']) {
      expect([bad, isSafeRepoPath(bad)]).toEqual([bad, false]);
    }
  });
});

describe('unified diffs', () => {
  it('apply back to the fixed file and count changed lines', () => {
    const after = HASH_JS.replace("'md5'", "'sha256'");
    const diff = unifiedDiff('src/digest.js', HASH_JS, after);
    expect(diff.startsWith('--- a/src/digest.js\n+++ b/src/digest.js\n@@ ')).toBe(true);
    expect(applyPatch(HASH_JS, diff)).toBe(after);
    expect(diffStat(diff)).toEqual({ added: 1, removed: 1 });
  });

  it('are empty when nothing changed', () => {
    expect(unifiedDiff('a.js', HASH_JS, HASH_JS)).toBe('');
  });
});

describe('pull request text', () => {
  const description = {
    vulnerabilityId: 'v-1', type: 'SQL Injection', ruleId: 'javascript.sql-injection', severity: 'high', cweId: 'CWE-89',
    filePath: 'src/db.js', lineNumber: 12, problem: 'Input <script> reaches a query', explanation: 'Use a parameterised query.\n# not a heading',
    diff: "--- a/src/db.js\n+++ b/src/db.js\n@@ -1 +1 @@\n-q('```' + id)\n+q('?', [id])\n", source: 'rule' as const, confidence: 0.95,
    evidence: { parses: true, findingGone: true, newFindings: 0, changedLines: 2, ruleset: 'abc123' },
  };

  it('has the title, explanation, before/after, validation evidence and confidence', () => {
    expect(fixTitle('SQL Injection')).toBe('🔒 Security Fix: SQL Injection');
    const body = fixBody(description);
    expect(body).toContain('### Explanation\n\nUse a parameterised query. # not a heading');
    expect(body).toContain("-q('```' + id)");
    expect(body).toContain('✅ A re-scan of the changed file no longer reports this finding');
    expect(body).toContain('New findings in the changed file: 0');
    expect(body).toContain('### Confidence\n\n95 %');
    expect(body).toContain('&lt;script&gt;');
    expect(body).not.toContain('<script>');
  });

  it('fences the diff with more backticks than the code holds, so code cannot end the block', () => {
    const body = fixBody(description);
    const open = body.indexOf('````diff\n');
    expect(open).toBeGreaterThan(0);
    expect(body.indexOf('\n````\n', open)).toBeGreaterThan(body.indexOf("'```'"));
  });

  it('names the vulnerability in the commit message', () => {
    expect(fixCommitMessage(description)).toMatch(/^🔒 Security Fix: SQL Injection\n\n.*src\/db\.js.*\n\nCodeGuardian-Vulnerability: v-1\n$/s);
  });
});

describe('POST /scan/fix', () => {
  const finding = { file: 'src/digest.js', line: 3, rule: 'weak-hash' };

  it('answers a validated unified diff that applies to the content', async () => {
    const answer = await compatScanFix(user, { finding, fileContent: HASH_JS }, null);
    expect(answer).toMatchObject({ fixed: true, source: 'rule', explanation: expect.any(String), validation: { parses: true, findingGone: true, newFindings: 0 } });
    const fixed = applyPatch(HASH_JS, answer.patch);
    expect(fixed).toContain("createHash('sha256')");
    expect(scanFiles([{ path: finding.file, source: fixed as string }]).findings.filter((f) => f.ruleId === 'javascript.weak-hash')).toEqual([]);
  });

  it('names findings by rule id, its last part, type or CWE', () => {
    const [weak] = scanFiles([{ path: finding.file, source: HASH_JS }]).findings;
    expect(weak).toBeDefined();
    for (const name of ['javascript.weak-hash', 'weak-hash', 'Weak Hashing', 'CWE-328', '328']) expect([name, namesFinding(name, weak!)]).toEqual([name, true]);
    for (const name of ['sql-injection', 'hash', 'CWE-32']) expect([name, namesFinding(name, weak!)]).toEqual([name, false]);
  });

  it('refuses a finding the content does not have, listing what is on that line', async () => {
    await expect(compatScanFix(user, { finding: { ...finding, rule: 'sql-injection' }, fileContent: HASH_JS }, null)).rejects.toMatchObject({
      status: 422, code: 'FINDING_NOT_FOUND', details: { findingsOnLine: [{ rule: 'javascript.weak-hash', type: 'Weak Hashing' }] },
    });
    await expect(compatScanFix(user, { finding: { ...finding, line: 1 }, fileContent: HASH_JS }, null)).rejects.toMatchObject({ status: 422, code: 'FINDING_NOT_FOUND' });
  });

  it('refuses paths outside the repository and files no parser handles', async () => {
    await expect(compatScanFix(user, { finding: { ...finding, file: '../etc/app.js' }, fileContent: HASH_JS }, null)).rejects.toMatchObject({ status: 400, code: 'INVALID_PATH' });
    await expect(compatScanFix(user, { finding: { ...finding, file: 'notes.txt' }, fileContent: HASH_JS }, null)).rejects.toMatchObject({ status: 422, code: 'UNSUPPORTED_LANGUAGE' });
  });

  const EVAL_JS = `const express = require('express');
const app = express();
app.get('/calc', (req, res) => {
  res.json({ result: eval(req.query.expression) });
});
module.exports = app;
`;
  const evalFinding = { file: 'src/calc.js', line: 4, rule: 'javascript.taint.code-injection' };

  it('says no fix is available when the rule has no rewrite and no model is configured', async () => {
    await expect(compatScanFix(user, { finding: evalFinding, fileContent: EVAL_JS }, null)).rejects.toMatchObject({ status: 422, code: 'NO_FIX_AVAILABLE' });
  });

  it('validates a model fix like a rewrite: a broken one is refused with the reason', async () => {
    const broken = async (_f: unknown, source: string) => ({ after: source.replace('eval(req.query.expression) });', 'Number(req.query.expression) ;'), description: 'x', confidence: 0.6 });
    await expect(compatScanFix(user, { finding: evalFinding, fileContent: EVAL_JS }, broken)).rejects.toMatchObject({ status: 422, code: 'FIX_NOT_VALIDATED', details: { validationCode: 'PARSE_ERROR' } });
    const unchanged = async (_f: unknown, source: string) => ({ after: source, description: 'nothing', confidence: 0.6 });
    await expect(compatScanFix(user, { finding: evalFinding, fileContent: EVAL_JS }, unchanged)).rejects.toMatchObject({ status: 422, code: 'FIX_NOT_VALIDATED', details: { validationCode: 'NO_CHANGE' } });
    const failing = async () => ({ error: 'The model token budget is used up for today' });
    await expect(compatScanFix(user, { finding: evalFinding, fileContent: EVAL_JS }, failing)).rejects.toMatchObject({ status: 422, code: 'MODEL_FIX_FAILED' });
  });

  it('accepts a model fix that removes the finding', async () => {
    const good = async (_f: unknown, source: string) => ({ after: source.replace('eval(req.query.expression)', 'Number(req.query.expression)'), description: 'Parse a number instead of evaluating code', confidence: 0.8 });
    const answer = await compatScanFix(user, { finding: evalFinding, fileContent: EVAL_JS }, good);
    expect(answer).toMatchObject({ fixed: true, source: 'model', confidence: 0.8, explanation: 'Parse a number instead of evaluating code' });
    expect(answer.patch).toContain('+  res.json({ result: Number(req.query.expression) });');
  });
});
