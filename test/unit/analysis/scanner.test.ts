import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CONFIG, parseConfigText } from '../../../shared/analysis/config.ts';
import { getRuleSet } from '../../../shared/analysis/rule-pack.ts';
import { createFileScanner, mergeOverlapping, scanFiles, type ScanProgress } from '../../../shared/analysis/scanner.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';
import type { Analyzer, RawFinding } from '../../../shared/analysis/types.ts';

const files = [
  { path: 'app/db.py', source: 'def f(cur, x):\n    cur.execute("SELECT * FROM t WHERE a = %s" % x)\n    h = hashlib.md5(x)  # nosec cache key\n' },
  { path: 'app/util.js', source: "const h = require('crypto').createHash('sha1');\n" },
  { path: 'app/ok.go', source: 'package app\n\nfunc Add(a, b int) int { return a + b }\n' },
  { path: 'README.md', source: '# readme\n' },
  { path: 'vendor/x.js', source: 'eval(code)\n' },
];

const structuralOnly = [createStructuralAnalyzer()];

describe('scanFiles', () => {
  it('reports findings, suppressions, counts and the ruleset version', () => {
    const result = scanFiles(files, { analyzers: structuralOnly });
    expect(result.findings.map((f) => [f.location.path, f.location.startLine, f.ruleId])).toEqual([
      ['app/db.py', 2, 'python.sql-injection'],
      ['app/util.js', 1, 'javascript.weak-hash'],
    ]);
    expect(result.suppressed).toHaveLength(1);
    expect(result.suppressed[0]).toMatchObject({ ruleId: 'python.weak-hash', suppression: { kind: 'nosec', reason: 'cache key' } });
    expect(result.filesScanned).toBe(3);
    expect(result.linesScanned).toBe(3 + 1 + 3);
    expect(result.skipped).toEqual([{ path: 'vendor/x.js', reason: 'vendored' }]);
    expect(result.errors).toEqual([]);
    expect(result.rulesetVersion).toBe(getRuleSet().version);
    expect(result.rulesetVersion).toMatch(/^[0-9a-f]{16}$/);
    for (const f of [...result.findings, ...result.suppressed]) expect(f.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('applies the configuration: disabled rules, threshold and ignore paths', () => {
    const config = parseConfigText('rules: { disable: [CWE-89] }\nseverityThreshold: medium\nignore: [app/util.js]');
    const result = scanFiles(files, { analyzers: structuralOnly, config });
    expect(result.findings).toEqual([]);
    expect(result.skipped).toContainEqual({ path: 'app/util.js', reason: 'ignored' });
    const high = scanFiles(files, { analyzers: structuralOnly, severityThreshold: 'high' });
    expect(high.findings.map((f) => f.ruleId)).toEqual(['python.sql-injection']);
  });

  it('scans only the change set when given one', () => {
    const result = scanFiles(files, { analyzers: structuralOnly, changedSince: { ref: 'HEAD~1', paths: ['app/util.js'] } });
    expect(result.filesScanned).toBe(1);
    expect(result.findings.map((f) => f.ruleId)).toEqual(['javascript.weak-hash']);
  });

  it('parses each file once and shares the tree with every analyzer', () => {
    const seen: unknown[] = [];
    const spy = (id: string): Analyzer => ({ id, languages: 'all', analyze: (file) => (seen.push(file.root), []) });
    scanFiles([files[0] as (typeof files)[number]], { analyzers: [spy('a'), spy('b')] });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeDefined();
    expect(seen[0]).toBe(seen[1]);
  });

  it('parses a file only when an analyzer asks for its tree', () => {
    const scan = createFileScanner();
    const outcome = (path: string, source: string) => scan({ path, load: () => source });
    // No rule's literals, no taint source or sink: the text checks decide without a tree.
    expect(outcome('app/math.py', 'def add(a, b):\n    return a + b\n')).toMatchObject({ scanned: true, parsed: false, findings: [] });
    expect(outcome('app/run.py', 'def run(code):\n    return eval(code)\n')).toMatchObject({ scanned: true, parsed: true });
    const textOnly: Analyzer = { id: 'text', languages: 'all', analyze: () => [] };
    expect(createFileScanner({ analyzers: [textOnly] })({ path: 'app/run.py', load: () => 'eval(code)\n' })).toMatchObject({ parsed: false });
  });

  it('records an analyzer failure as an error and keeps scanning', () => {
    const broken: Analyzer = { id: 'broken', languages: ['python'], analyze: () => { throw new Error('boom'); } };
    const result = scanFiles(files, { analyzers: [broken, ...structuralOnly] });
    expect(result.errors).toEqual([{ path: 'app/db.py', analyzer: 'broken', message: 'boom' }]);
    expect(result.findings).toHaveLength(2);
  });

  it('reports progress up to completion', () => {
    const events: ScanProgress[] = [];
    scanFiles(files, { analyzers: structuralOnly, onProgress: (p) => events.push(p) });
    expect(events.at(-1)).toEqual({ filesDone: 4, filesTotal: 4, path: '' });
    expect(events.map((e) => e.filesDone)).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs the default analyzers when none are given', () => {
    const result = scanFiles([{ path: 'config.py', source: 'AWS_KEY = "AKIAIOSFODNN7REALKEY1"\nyaml.load(data)\n' }], { config: DEFAULT_CONFIG });
    expect(result.findings.some((f) => f.kind === 'rule' && f.ruleId === 'python.yaml-load')).toBe(true);
  });

  it('reports a weakness once when taint tracking and a rule flag the same line', () => {
    const base: RawFinding = {
      ruleId: 'python.sql-injection', kind: 'rule', type: 'SQL Injection', message: 'm', severity: 'critical', confidence: 'high',
      cwe: ['CWE-89'], location: { path: 'a.py', startLine: 3, startColumn: 5, endLine: 3, endColumn: 40 }, snippet: 'cur.execute(q)',
      fix: { description: 'd', edits: [{ startByte: 1, endByte: 2, replacement: 'x' }] },
    };
    const flow: RawFinding = { ...base, ruleId: 'python.taint.sql-injection', kind: 'taint', fix: undefined, dataflow: [{ ...base.location, label: 'sink' }] };
    const otherLine: RawFinding = { ...base, location: { ...base.location, startLine: 9, endLine: 9 } };
    const otherCwe: RawFinding = { ...base, ruleId: 'python.weak-hash', type: 'Weak Hashing', cwe: ['CWE-328'] };
    const merged = mergeOverlapping([base, flow, otherLine, otherCwe]);
    expect(merged.map((f) => `${f.ruleId}:${f.location.startLine}`)).toEqual(['python.taint.sql-injection:3', 'python.sql-injection:9', 'python.weak-hash:3']);
    expect(merged[0]?.fix).toEqual(base.fix);
    expect(mergeOverlapping([base, otherCwe])).toEqual([base, otherCwe]);
  });
});
