import { describe, expect, it } from '@jest/globals';
import { findSuppression } from '../../../shared/analysis/suppressions.ts';
import type { RawFinding } from '../../../shared/analysis/types.ts';

function finding(line: number, ruleId = 'python.weak-hash', cwe = ['CWE-328']): RawFinding {
  return {
    ruleId, kind: 'rule', type: 'Weak Hashing', message: 'm', severity: 'medium', confidence: 'high', cwe,
    location: { path: 'a.py', startLine: line, startColumn: 1, endLine: line, endColumn: 5 }, snippet: 'x',
  };
}

const lines = (text: string) => text.split('\n');

describe('inline suppressions', () => {
  it('honours codeguardian-ignore on the line, with the reason', () => {
    const src = lines('h = hashlib.md5(x)  # codeguardian-ignore: python.weak-hash cache key, not security');
    expect(findSuppression(src, finding(1))).toEqual({ kind: 'inline', reason: 'cache key, not security' });
  });

  it('honours codeguardian-ignore by CWE on the comment line above', () => {
    const src = lines('// codeguardian-ignore: CWE-328 legacy checksum format\nconst h = md5(x);');
    expect(findSuppression(src, finding(2))).toEqual({ kind: 'inline', reason: 'legacy checksum format' });
  });

  it('applies an untargeted codeguardian-ignore to every rule', () => {
    const src = lines('eval(x) // codeguardian-ignore reviewed by security team');
    expect(findSuppression(src, finding(1, 'javascript.code-injection', ['CWE-95']))).toEqual({ kind: 'inline', reason: 'reviewed by security team' });
  });

  it('records a missing reason as such', () => {
    expect(findSuppression(lines('x # codeguardian-ignore'), finding(1))).toEqual({ kind: 'inline', reason: 'no reason given' });
  });

  it('does not apply a suppression aimed at another rule or CWE', () => {
    expect(findSuppression(lines('x # codeguardian-ignore: python.sql-injection fine'), finding(1))).toBeUndefined();
    expect(findSuppression(lines('x # codeguardian-ignore: CWE-89 fine'), finding(1))).toBeUndefined();
  });

  it('honours # nosec and // nosemgrep, with or without rule ids', () => {
    expect(findSuppression(lines('h = hashlib.md5(x)  # nosec B303'), finding(1))).toEqual({ kind: 'nosec', reason: 'B303' });
    expect(findSuppression(lines('h = md5(x) // nosemgrep'), finding(1))).toEqual({ kind: 'nosemgrep', reason: 'marked nosemgrep' });
    expect(findSuppression(lines('h = md5(x) // nosemgrep: weak-hash'), finding(1))).toEqual({ kind: 'nosemgrep', reason: 'marked nosemgrep' });
    expect(findSuppression(lines('h = md5(x) // nosemgrep: sql-injection'), finding(1))).toBeUndefined();
  });

  it('ignores a marker on the previous line when that line is code, and markers further away', () => {
    expect(findSuppression(lines('a = eval(y)  # nosec\nh = hashlib.md5(x)'), finding(2))).toBeUndefined();
    expect(findSuppression(lines('# nosec\n\nh = hashlib.md5(x)'), finding(3))).toBeUndefined();
    expect(findSuppression(lines('h = hashlib.md5(x)'), finding(1))).toBeUndefined();
  });
});
