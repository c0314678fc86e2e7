import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSource } from '../../../shared/analysis/languages.ts';
import { asciiRegex, loadRuleSet, orderForSpeed, regexAnchors, RULE_SNAPSHOT_FILE, ruleAnchors, RulePackError, writeRuleSnapshot } from '../../../shared/analysis/rule-pack.ts';

const good = `
  - id: python.demo-eval
    languages: [python]
    type: Code Injection
    severity: high
    confidence: high
    message: demo
    cwe: [CWE-95]
    rule: { pattern: eval($X) }
`;

let dirs: string[] = [];
function pack(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-rules-'));
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function loadError(files: Record<string, string>): RulePackError {
  try {
    loadRuleSet(pack(files));
  } catch (err) {
    return err as RulePackError;
  }
  throw new Error('expected the pack to be rejected');
}

describe('rule pack loader', () => {
  it('loads a valid pack and versions it by content', () => {
    const a = loadRuleSet(pack({ 'python/demo.yml': `rules:${good}` }));
    expect(a.rules.map((r) => r.id)).toEqual(['python.demo-eval']);
    expect(a.byLanguage.get('python')).toHaveLength(1);
    const b = loadRuleSet(pack({ 'python/demo.yml': `rules:${good.replace('message: demo', 'message: changed')}` }));
    expect(b.version).not.toBe(a.version);
  });

  it('applies JavaScript rules to TypeScript and TSX', () => {
    const set = loadRuleSet(pack({ 'javascript/demo.yml': `rules:${good.replace(/python/g, 'javascript')}` }));
    expect(set.rules[0]?.languages).toEqual(['javascript', 'typescript', 'tsx']);
  });

  it.each([
    ['a missing field', good.replace('    severity: high\n', ''), /python\/demo\.yml rule python\.demo-eval: severity/],
    ['a bad severity', good.replace('severity: high', 'severity: severe'), /rule python\.demo-eval: severity/],
    ['a bad CWE', good.replace('CWE-95', 'CWE95'), /cwe\.0: cwe entries look like CWE-89/],
    ['an unknown key', `${good}    tags: [x]\n`, /rule python\.demo-eval: .*tags/],
    ['a fix without description', `${good}    fix: ast.literal_eval($X)\n`, /fixDescription is required/],
    ['a kind the grammar lacks', good.replace('{ pattern: eval($X) }', '{ kind: no_such_kind }'), /python\.demo-eval: does not compile for python/],
    ['a misplaced id', good.replace('python.demo-eval', 'go.demo-eval'), /must start with "python\."/],
  ])('rejects %s, naming the file and rule', (_label, rule, message) => {
    const err = loadError({ 'python/demo.yml': `rules:${rule}` });
    expect(err).toBeInstanceOf(RulePackError);
    expect(err.code).toBe('INVALID_RULE_PACK');
    expect(err.message).toMatch(message);
  });

  it('loads a snapshot of the compiled packs while it matches them, and ignores a stale or broken one', () => {
    const dir = pack({ 'python/demo.yml': `rules:${good}` });
    const loaded = loadRuleSet(dir);
    writeRuleSnapshot(loaded, dir);
    const snapshot = JSON.parse(readFileSync(join(dir, RULE_SNAPSHOT_FILE), 'utf8')) as { version: string; rules: { message: string }[] };
    expect(snapshot.version).toBe(loaded.version);
    // A marked snapshot proves which source was read: the snapshot while the packs are unchanged.
    (snapshot.rules[0] as { message: string }).message = 'from the snapshot';
    writeFileSync(join(dir, RULE_SNAPSHOT_FILE), JSON.stringify(snapshot));
    const fromSnapshot = loadRuleSet(dir);
    expect(fromSnapshot.version).toBe(loaded.version);
    expect(fromSnapshot.rules[0]?.message).toBe('from the snapshot');
    expect(fromSnapshot.byLanguage.get('python')?.map((r) => r.id)).toEqual(['python.demo-eval']);
    expect(fromSnapshot.rules[0]?.config).toEqual(loaded.rules[0]?.config);
    writeFileSync(join(dir, 'python/demo.yml'), `rules:${good.replace('message: demo', 'message: edited')}`);
    expect(loadRuleSet(dir).rules[0]?.message).toBe('edited');
    writeFileSync(join(dir, RULE_SNAPSHOT_FILE), '{ not json');
    expect(loadRuleSet(dir).rules[0]?.message).toBe('edited');
  });

  it('rejects duplicate ids, broken YAML and a pack without rules', () => {
    expect(loadError({ 'python/a.yml': `rules:${good}`, 'python/b.yml': `rules:${good}` }).message).toMatch(/python\/b\.yml rule python\.demo-eval: duplicate rule id \(first defined in python\/a\.yml\)/);
    expect(loadError({ 'python/a.yml': 'rules: [' }).message).toMatch(/python\/a\.yml: invalid YAML/);
    expect(loadError({ 'python/a.yml': 'checks: []' }).message).toMatch(/top-level "rules:" list/);
  });
});

describe('rule anchors', () => {
  it('extracts necessary literals from regexes', () => {
    expect(regexAnchors('^md5\\.(Sum|New)$')).toEqual([['\\bmd5.Sum\\b', '\\bmd5.New\\b']]);
    expect(regexAnchors('^((child_process|cp)\\.)?(exec|execSync)$')).toEqual([['exec', 'execSync']]);
    expect(regexAnchors('(?i)^(password|secret)$')).toEqual([['\\bpassword\\b', '\\bsecret\\b']]);
    expect(regexAnchors('abc?d')).toEqual([]);
    expect(regexAnchors('[+%]')).toEqual([]);
    expect(regexAnchors('\\]\\[')).toEqual([['][']]);
  });

  it('keeps the case of a case-sensitive regex, and folds it under (?i), for the whole run a folded group joins', () => {
    expect(regexAnchors('^Function$')).toEqual([['\\bFunction\\b']]);
    expect(regexAnchors('(?i)^Function$')).toEqual([['\\bfunction\\b']]);
    expect(regexAnchors('(?i-u)^(Password|Secret)$')).toEqual([['\\bpassword\\b', '\\bsecret\\b']]);
    expect(regexAnchors('^Abc(?i:def)$')).toEqual([['abcdef']]);
    expect(ruleAnchors({ pattern: 'new Function($$$A)' })).toEqual([['Function']]);
  });

  it('wants the literals of a regex matching a whole node as whole words, on the sides that are word characters', () => {
    expect(regexAnchors('^(eval|exec|builtins\\.eval)$')).toEqual([['\\beval\\b', '\\bexec\\b', '\\bbuiltins.eval\\b']]);
    expect(regexAnchors('^\\$where$')).toEqual([['$where\\b']]);
    expect(regexAnchors('^(eval|exec)')).toEqual([['eval', 'exec']]);
    expect(regexAnchors('(eval|exec)$')).toEqual([['eval', 'exec']]);
    expect(regexAnchors('^(os\\.)?system$')).toEqual([['system']]);
  });

  it('joins consecutive literals and literal groups into whole strings, within a bound', () => {
    expect(regexAnchors('^(req|request)\\.(body|query)\\b')).toEqual([['req.body', 'req.query', 'request.body', 'request.query']]);
    // A repeated group is necessary once but cannot be joined with what follows it.
    expect(regexAnchors('(abc|abd)+xyz')).toEqual([['abc', 'abd'], ['xyz']]);
    // Too many combinations: the parts stay separate clauses.
    const many = Array.from({ length: 9 }, (_, i) => `name${i}`).join('|');
    expect(regexAnchors(`^(${many})\\.(${many})$`)).toEqual([[...Array.from({ length: 9 }, (_, i) => `name${i}.`)], Array.from({ length: 9 }, (_, i) => `name${i}`)]);
  });

  it('combines clauses across relations and utilities, and gives none for bare kinds', () => {
    expect(ruleAnchors({ pattern: 'hashlib.md5($X)' })).toEqual([['hashlib']]);
    expect(ruleAnchors({ any: [{ pattern: 'eval($X)' }, { pattern: 'exec($X)' }] })).toEqual([['eval', 'exec']]);
    expect(ruleAnchors({ any: [{ pattern: 'eval($X)' }, { kind: 'call' }] })).toEqual([]);
    expect(ruleAnchors({ kind: 'call', has: { matches: 'u' } }, { u: { regex: '^yaml\\.load$' } })).toEqual([['\\byaml.load\\b']]);
  });

  it('orders conjunctions cheapest first without changing what a rule matches', () => {
    const utils = { deep: { has: { stopBy: 'end', kind: 'identifier', regex: '^req$' } } };
    const rule = { kind: 'call_expression', all: [{ has: { field: 'arguments', matches: 'deep' } }], has: { field: 'function', regex: '^eval$' } };
    expect(orderForSpeed(rule, utils)).toEqual({
      kind: 'call_expression',
      all: [{ has: { field: 'function', regex: '^eval$' } }, { has: { field: 'arguments', matches: 'deep' } }],
    });
    // `any` keeps its order: its first matching branch binds the metavariables a fix uses.
    expect(orderForSpeed({ any: [{ has: { stopBy: 'end', kind: 'x' } }, { kind: 'y' }] }, {})).toEqual({ any: [{ has: { stopBy: 'end', kind: 'x' } }, { kind: 'y' }] });
    const source = 'eval(req); eval(x); other(req);';
    const root = parseSource('javascript', source).root();
    const texts = (config: object) => root.findAll({ rule: config, utils } as never).map((n) => n.text());
    expect(texts(orderForSpeed(rule, utils))).toEqual(texts(rule));
    expect(texts(rule)).toEqual(['eval(req)']);
  });

  it('rewrites Unicode shorthand classes as ASCII ones', () => {
    expect(asciiRegex('^\\w+\\s*=\\d')).toBe('^[0-9A-Za-z_]+[\\t\\n\\x0B\\f\\r ]*=[0-9]');
    expect(asciiRegex('[\\w.]+')).toBe('[0-9A-Za-z_.]+');
    expect(asciiRegex('\\\\w')).toBe('\\\\w');
  });
});
