/** applyFixes (what `codeguardian scan --fix` runs): the same rule rewrites, several per file, shared imports once. */
import { describe, expect, it } from '@jest/globals';
import { applyEdits, applyFixes } from '../../../shared/analysis/apply-fixes.ts';
import { scanFiles } from '../../../shared/analysis/scanner.ts';

describe('applyFixes', () => {
  it('applies code fixers and templates together and adds a shared import once', () => {
    const source = ['import os', 'import yaml', '', 'def f(host, path):', '    os.system("ping -c 1 " + host)', '    os.system("ls -l " + path)', '    return yaml.load(path)', ''].join('\n');
    const { findings } = scanFiles([{ path: 'ops.py', source }]);
    const outcome = applyFixes(source, findings);
    expect(outcome.applied).toHaveLength(3);
    expect(outcome.skipped).toHaveLength(0);
    expect(outcome.source).toBe(
      ['import os', 'import yaml', 'import subprocess', '', 'def f(host, path):', '    subprocess.call(["ping", "-c", "1", host])', '    subprocess.call(["ls", "-l", path])', '    return yaml.safe_load(path)', ''].join('\n'),
    );
    expect(scanFiles([{ path: 'ops.py', source: outcome.source }]).findings).toEqual([]);
  });

  it('skips a fix whose edits overlap one already accepted', () => {
    const source = 'const sessionToken = Math.random();\n';
    const [finding] = scanFiles([{ path: 'a.js', source }]).findings;
    expect(finding).toBeDefined();
    const clash = { ...finding!, fix: { description: 'x', edits: [{ startByte: 21, endByte: 34, replacement: 'y' }] }, ruleId: 'javascript.no-such-rule' };
    const outcome = applyFixes(source, [finding!, clash]);
    expect(outcome.applied).toEqual([finding]);
    expect(outcome.skipped).toEqual([clash]);
  });

  it('leaves findings without a rewrite alone', () => {
    const source = 'import pickle\n\ndef f(data):\n    return pickle.loads(data)\n';
    const { findings } = scanFiles([{ path: 'a.py', source }]);
    expect(findings.length).toBeGreaterThan(0);
    expect(applyFixes(source, findings)).toEqual({ source, applied: [], skipped: [] });
  });

  it('rejects edits outside the file or overlapping each other', () => {
    expect(() => applyEdits('abc', [{ startByte: 2, endByte: 9, replacement: '' }])).toThrow(RangeError);
    expect(() => applyEdits('abcdef', [{ startByte: 0, endByte: 3, replacement: '' }, { startByte: 2, endByte: 4, replacement: '' }])).toThrow(RangeError);
    expect(applyEdits('héllo', [{ startByte: 1, endByte: 3, replacement: 'e' }])).toBe('hello');
  });
});
