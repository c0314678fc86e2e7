import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSource } from '../../../shared/analysis/languages.ts';
import { loadRuleSet } from '../../../shared/analysis/rule-pack.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';

const rule = (id: string, body: string) => `
  - id: ${id}
    languages: [python]
    type: Code Injection
    severity: high
    confidence: high
    message: ${id}
    cwe: [CWE-95]
${body}`;

const PACK = `rules:${[
  rule('python.demo-eval-fix', '    rule: { pattern: eval($X) }\n    fix: safe_eval($X)\n    fixDescription: Use safe_eval.'),
  rule('python.demo-eval-call', "    rule: { kind: call, has: { field: function, regex: '^eval$' } }"),
  rule('python.demo-exec-fix', '    rule: { pattern: exec($$$ARGS) }\n    fix: run($$$ARGS)\n    fixDescription: Use run.'),
].join('')}`;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('structural analyzer', () => {
  it('reports every rule a node matches when the rules run as one combined config, with each rule’s fix', () => {
    dir = mkdtempSync(join(tmpdir(), 'cg-structural-'));
    mkdirSync(join(dir, 'python'));
    writeFileSync(join(dir, 'python', 'demo.yml'), PACK);
    const analyzer = createStructuralAnalyzer({ ruleSet: loadRuleSet(dir) });
    const source = 'eval(a)\nexec(b, c)\nprint(d)\n';
    const findings = analyzer.analyze({ path: 'demo.py', language: 'python', source, root: parseSource('python', source) });
    const seen = findings.map((f) => [f.location.startLine, f.ruleId, f.fix?.edits[0]?.replacement]).sort();
    expect(seen).toEqual([
      [1, 'python.demo-eval-call', undefined],
      [1, 'python.demo-eval-fix', 'safe_eval(a)'],
      [2, 'python.demo-exec-fix', 'run(b, c)'],
    ]);
  });
});
