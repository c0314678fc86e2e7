/**
 * Taint engine tests: each sink kind (fixtures under test/fixtures/rules/java/java.taint.*) and each
 * propagation kind, sanitizer and folded branch (test/fixtures/taint/) are checked exactly against their
 * `ruleid:` / `ok:` annotations; plus data-flow shape and spec validation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseSource } from '../../../../shared/analysis/languages.ts';
import { ownCallPattern, selectEntryPoints, TaintEngine } from '../../../../shared/analysis/taint/engine.ts';
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

describe('taint spec validation of conditions and guards', () => {
  const base = { language: 'python', kinds: { sql: spec.kinds.sql }, sources: [], sinks: [], sanitizers: [] };

  it('rejects a condition naming both a keyword and an argument', () => {
    expect(() => validateTaintSpec({ ...base, sinks: [{ kind: 'sql', functions: ['q'], when: { keyword: 'shell', arg: 0, pattern: 'x' } }] }, 'x.yml')).toThrow(/sinks\.0\.when: needs exactly one of keyword or arg/);
  });

  it('rejects a condition without a pattern or type', () => {
    expect(() => validateTaintSpec({ ...base, sinks: [{ kind: 'sql', functions: ['q'], when: { keyword: 'shell' } }] }, 'x.yml')).toThrow(/pattern or type/);
  });

  it('rejects a condition whose pattern is not a regular expression', () => {
    expect(() => validateTaintSpec({ ...base, sinks: [{ kind: 'sql', functions: ['q'], when: { arg: 0, pattern: '(' } }] }, 'x.yml')).toThrow(/not a regular expression/);
  });

  it('rejects fields without receivers and guards naming unknown kinds', () => {
    expect(() => validateTaintSpec({ ...base, sources: [{ fields: ['args'], label: 'x' }] }, 'x.yml')).toThrow(/need receivers or anyReceiver/);
    expect(() => validateTaintSpec({ ...base, guards: [{ functions: ['ok'], subject: 0, kinds: ['nope'] }] }, 'x.yml')).toThrow(/guards\.0 names unknown kind "nope"/);
  });

  it('accepts every bundled spec', () => {
    for (const language of ['java', 'javascript', 'python', 'go']) expect(Object.keys(loadTaintSpec(language).kinds).length).toBeGreaterThanOrEqual(6);
  });
});

describe('pre-checks', () => {
  it.each(['java', 'javascript', 'python', 'go'])('every %s source written as code passes the file pre-check', (language) => {
    const s = loadTaintSpec(language);
    const engine = new TaintEngine(s, 'x');
    const sink = s.sinks.find((k) => k.methods || k.functions);
    const sinkCall = `${(sink?.methods ?? sink?.functions ?? ['x'])[0]}(x)`;
    for (const src of s.sources) {
      const receivers = src.receivers ?? ['obj'];
      for (const r of receivers) {
        for (const m of src.methods ?? []) expect({ src: `${r}.${m}(`, ok: engine.mayFind(`${r}.${m}("a"); ${sinkCall}`) }).toEqual({ src: `${r}.${m}(`, ok: true });
        for (const f of src.fields ?? []) expect({ src: `${r}.${f}`, ok: engine.mayFind(`${r}.${f}; ${sinkCall}`) }).toEqual({ src: `${r}.${f}`, ok: true });
      }
      for (const fn of src.functions ?? []) expect(engine.mayFind(`${fn}(); ${sinkCall}`)).toBe(true);
    }
  });

  it('skips files without a source or without a sink, and names used as plain words', () => {
    const engine = new TaintEngine(loadTaintSpec('python'), 'x');
    expect(engine.mayFind('import os\nos.system(cmd)')).toBe(false);
    expect(engine.mayFind('import os\nx = os.environ["A"]')).toBe(false);
    expect(engine.mayFind('import os\nos.system(os.environ["A"])')).toBe(true);
    // `input` as a parameter name is not the builtin being called.
    expect(engine.mayFind('import os\ndef f(input):\n    os.system(input)')).toBe(false);
    // A field source needs its receiver named somewhere in the file.
    expect(engine.mayFind('import os\ndef f(x):\n    os.system(x.args)')).toBe(false);
  });

  it('finds a receiver renamed by an import, in each language', () => {
    const python = new TaintEngine(loadTaintSpec('python'), 'x');
    expect(python.mayFind('from os import environ\nimport os\nos.system(environ["A"])')).toBe(true);
    expect(python.mayFind('import os as o\nimport os\nos.system(o.environ["A"])')).toBe(true);
    expect(python.mayFind('import os\nos.system(e.environ["A"])')).toBe(false);
    const go = new TaintEngine(loadTaintSpec('go'), 'x.go');
    const program = (imports: string) => `package main\nimport (\n${imports}\n\t"os/exec"\n)\nfunc main() { exec.Command(o.Getenv("X")).Run() }`;
    expect(go.mayFind(program('\to "os"'))).toBe(true);
    expect(go.mayFind(program(''))).toBe(false);
  });

  it('reaches sources and sinks through same-file calls when choosing entry points', () => {
    const engine = new TaintEngine(loadTaintSpec('python'), 'x');
    const fns = [
      { name: 'read_input', text: 'def read_input():\n    return input()' },
      { name: 'run', text: 'def run(c):\n    os.system(c)' },
      { name: 'main', text: 'def main():\n    run(read_input())' },
      { name: 'unrelated', text: 'def unrelated():\n    return 1' },
      { name: 'mentions', text: 'def mentions():\n    return run' },
    ];
    expect(selectEntryPoints(engine, fns)).toEqual([false, false, true, false, false]);
    // A module-level name holding tainted data counts as a source.
    const withGlobal = [...fns, { name: 'uses', text: 'def uses():\n    os.system(CONFIG)' }];
    expect(selectEntryPoints(engine, withGlobal, ['CONFIG']).at(-1)).toBe(true);
    expect(selectEntryPoints(engine, withGlobal).at(-1)).toBe(false);
  });

  it('counts only calls the adapter resolves to the same file: bare names, this. and self.', () => {
    expect(ownCallPattern(['read']).test('self.read()')).toBe(true);
    expect(ownCallPattern(['read']).test('read(x)')).toBe(true);
    expect(ownCallPattern(['run']).test('this.run(x)')).toBe(true);
    expect(ownCallPattern(['read']).test('f.read()')).toBe(false);
    expect(ownCallPattern(['read']).test('thread()')).toBe(false);
    const engine = new TaintEngine(loadTaintSpec('python'), 'x');
    const fns = [
      { name: 'read', text: 'def read(self):\n    return input()' },
      { name: 'copy', text: 'def copy(f):\n    os.system(f.read())' },
      { name: 'own', text: 'def own(self):\n    os.system(self.read())' },
    ];
    expect(selectEntryPoints(engine, fns, [], (t) => engine.mentionsSource(t), ownCallPattern)).toEqual([false, false, true]);
  });

  it('names a sink in full only with one of its receivers, in the text or among the imports', () => {
    const engine = new TaintEngine(loadTaintSpec('python'), 'x');
    expect(engine.mentionsSink('value = d.get(key)')).toBe(false);
    expect(engine.mentionsSink('r = requests.get(url)')).toBe(true);
    expect(engine.mentionsSink('r = rq.get(url)', 'import requests as rq')).toBe(true);
    expect(engine.mentionsSink('cursor.execute(q)')).toBe(true);
  });

  it('wants a receiver known by name written before the member, unless an import binds it under another name', () => {
    const python = new TaintEngine(loadTaintSpec('python'), 'x');
    expect(python.mentionsSource('def f(request):\n    return request.path')).toBe(true);
    expect(python.mentionsSource('def f(self):\n    return self.request.args')).toBe(true);
    // Both words, neither use: `request` and `path` apart are no request data.
    expect(python.mentionsSource('def f(request, path):\n    return open(path)')).toBe(false);
    expect(python.mentionsSource('return rq.args', 'from flask import request as rq')).toBe(true);
    expect(python.mentionsSource('x = environ["A"]')).toBe(false);
    expect(python.mentionsSource('x = environ["A"]', 'from os import environ')).toBe(true);
    expect(python.mayFind('from os import environ, system\nsystem(environ["A"])')).toBe(true);
    expect(new TaintEngine(loadTaintSpec('go'), 'x').mentionsSink('ex.Command(c)', 'ex "os/exec"')).toBe(true);
    const js = new TaintEngine(loadTaintSpec('javascript'), 'x');
    expect(js.mentionsSource('readFileSync(p)', "const { readFileSync } = require('node:fs')")).toBe(true);
    expect(js.mentionsSource('const q = req.query.id')).toBe(true);
    expect(js.mentionsSource('function f(req, body) { return body }')).toBe(false);
  });

  it('still finds a flow from a source in one function to a sink in another', () => {
    const source = 'import os\n\ndef read():\n    return input()\n\ndef run(c):\n    os.system(c)\n\ndef main():\n    run(read())\n';
    const found = analyzer.analyze({ path: 'a.py', language: 'python', source, root: parseSource('python', source) });
    expect(found.map((f) => [f.ruleId, f.location.startLine])).toEqual([['python.taint.command-injection', 7]]);
  });
});
