/**
 * Taint engine tests: each sink kind (fixtures under test/fixtures/rules/java/java.taint.*) and each
 * propagation kind, sanitizer and folded branch (test/fixtures/taint/) are checked exactly against their
 * `ruleid:` / `ok:` annotations; plus data-flow shape and spec validation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseSource } from '../../../../shared/analysis/languages.ts';
import { createTaintAnalyzer, loadTaintSpec, TaintSpecError, validateTaintSpec } from '../../../../shared/analysis/taint/index.ts';
import type { RawFinding } from '../../../../shared/analysis/types.ts';
import { annotations } from '../rule-fixtures.ts';
import type { LanguageId } from '../../../../shared/analysis/types.ts';

const RULE_FIXTURES = fileURLToPath(new URL('../../../fixtures/rules/java/', import.meta.url));
const TAINT_FIXTURES = fileURLToPath(new URL('../../../fixtures/taint/', import.meta.url));
const analyzer = createTaintAnalyzer();

function analyze(source: string, path = 'Fixture.java'): RawFinding[] {
  return analyzer.analyze({ path, language: 'java', source, root: parseSource('java', source) });
}

function lines(findings: RawFinding[], ruleId: string): number[] {
  return [...new Set(findings.filter((f) => f.ruleId === ruleId).map((f) => f.location.startLine))].sort((a, b) => a - b);
}

const spec = loadTaintSpec('java');
const ruleIds = Object.values(spec.kinds).map((k) => k.ruleId);

describe('java taint sink kinds', () => {
  it.each(ruleIds)('%s has an annotated fixture reported exactly', (ruleId) => {
    const source = readFileSync(`${RULE_FIXTURES}${ruleId}.java`, 'utf8');
    const expected = annotations(source, ruleId);
    expect(expected.expected.length).toBeGreaterThan(0);
    expect(expected.ok.length).toBeGreaterThan(0);
    expect(lines(analyze(expected.source), ruleId)).toEqual(expected.expected);
  });
});

const LANGUAGE_OF: Record<string, LanguageId> = { java: 'java', js: 'javascript', ts: 'typescript', py: 'python', go: 'go' };

function analyzeAs(language: LanguageId, source: string, path: string): RawFinding[] {
  return analyzer.analyze({ path, language, source, root: parseSource(language, source) });
}

describe.each([
  ['javascript', 'js'],
  ['python', 'py'],
  ['go', 'go'],
] as const)('%s taint sink kinds', (language, ext) => {
  const dir = fileURLToPath(new URL(`../../../fixtures/rules/${language}/`, import.meta.url));
  const ids = Object.values(loadTaintSpec(language).kinds).map((k) => k.ruleId);
  it.each(ids)('%s has an annotated fixture reported exactly', (ruleId) => {
    const source = readFileSync(`${dir}${ruleId}.${ext}`, 'utf8');
    const expected = annotations(source, ruleId);
    expect(expected.expected.length).toBeGreaterThan(0);
    expect(expected.ok.length).toBeGreaterThan(0);
    expect(lines(analyzeAs(language, source, `${ruleId}.${ext}`), ruleId)).toEqual(expected.expected);
  });
});

describe('taint propagation fixtures', () => {
  const files = readdirSync(TAINT_FIXTURES).filter((f) => LANGUAGE_OF[f.slice(f.lastIndexOf('.') + 1)]);
  it.each(files)('%s', (file) => {
    const source = readFileSync(`${TAINT_FIXTURES}${file}`, 'utf8');
    const ids = [...new Set([...source.matchAll(/(?:ruleid|ok): (\S+)/g)].map((m) => m[1] ?? ''))];
    expect(ids.length).toBeGreaterThan(0);
    const findings = analyzeAs(LANGUAGE_OF[file.slice(file.lastIndexOf('.') + 1)]!, source, file);
    for (const id of ids) {
      const expected = annotations(source, id);
      expect({ id, lines: lines(findings, id) }).toEqual({ id, lines: expected.expected });
    }
  });
});

describe('findings', () => {
  const source = readFileSync(`${RULE_FIXTURES}java.taint.sql-injection.java`, 'utf8');
  const [first] = analyze(source, 'src/Accounts.java');

  it('carry rule metadata and a source-to-sink data flow', () => {
    expect(first).toMatchObject({ ruleId: 'java.taint.sql-injection', kind: 'taint', type: 'SQL Injection', cwe: ['CWE-89'], owasp: 'A03:2021-Injection', cvss: 9.8 });
    const flow = first?.dataflow ?? [];
    expect(flow.length).toBeGreaterThanOrEqual(3);
    expect(flow[0]?.label).toMatch(/HTTP request data: request.getParameter\("id"\)/);
    expect(flow[0]?.startLine).toBe(6);
    expect(flow.at(-1)?.label).toMatch(/reaches executeQuery/);
    expect(flow.every((s) => s.path === 'src/Accounts.java')).toBe(true);
  });

  it('skips files that name no sink', () => {
    expect(analyze('class A { void f(javax.servlet.http.HttpServletRequest r) { String s = r.getParameter("x"); } }')).toEqual([]);
  });

  it('ignores other languages and unparsed files', () => {
    expect(analyzer.analyze({ path: 'a.py', language: 'python', source: 'x = 1', root: undefined })).toEqual([]);
  });
});

describe('taint spec validation', () => {
  const base = { language: 'java', kinds: {}, sources: [], sinks: [], sanitizers: [] };

  it('accepts the bundled spec', () => {
    expect(Object.keys(spec.kinds).length).toBeGreaterThanOrEqual(12);
  });

  it('rejects a sink naming an unknown kind', () => {
    expect(() => validateTaintSpec({ ...base, sinks: [{ kind: 'nope', constructors: ['File'] }] }, 'x.yml')).toThrow(/unknown kind "nope"/);
  });

  it('rejects methods without receivers', () => {
    expect(() => validateTaintSpec({ ...base, sources: [{ methods: ['getParameter'], label: 'p' }] }, 'x.yml')).toThrow(TaintSpecError);
  });

  it('rejects unknown fields with the path of the problem', () => {
    expect(() => validateTaintSpec({ ...base, sinks: [{ kind: 'sql', constructors: ['X'], bogus: 1 }] }, 'x.yml')).toThrow(/x\.yml: sinks\.0/);
  });

  it('gives errors a code', () => {
    try {
      validateTaintSpec({}, 'x.yml');
    } catch (err) {
      expect(err).toBeInstanceOf(TaintSpecError);
      expect((err as TaintSpecError).code).toBe('TAINT_SPEC_INVALID');
    }
    expect.assertions(2);
  });
});
