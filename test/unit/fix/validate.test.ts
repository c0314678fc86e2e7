/** The fix validator: accepted changes carry their evidence; each way a change can fail gives its own code. */
import { describe, expect, it } from '@jest/globals';
import { scanFiles } from '../../../shared/analysis/scanner.ts';
import type { Finding, LanguageId } from '../../../shared/analysis/types.ts';
import { buildRuleFix, diffLines, syntaxProblems, validateFix } from '../../../shared/fix/validate.ts';

const PY = ['import yaml', '', '', 'def load(text):', '    return yaml.load(text)', ''].join('\n');

function findingOf(path: string, source: string, ruleId: string, line?: number): Finding {
  const found = scanFiles([{ path, source }]).findings.find((f) => f.ruleId === ruleId && (line === undefined || f.location.startLine === line));
  if (!found) throw new Error(`${ruleId} not reported in ${path}`);
  return found;
}

function validate(path: string, language: LanguageId, before: string, after: string, finding: Finding, maxChangedLines?: number) {
  return validateFix({ path, language, before, after, finding, ...(maxChangedLines !== undefined ? { maxChangedLines } : {}) });
}

describe('validateFix', () => {
  const finding = findingOf('app/load.py', PY, 'python.yaml-load');

  it('accepts the rule rewrite with its evidence', () => {
    const fix = buildRuleFix(finding, PY);
    expect(fix?.after).toBe(PY.replace('yaml.load(text)', 'yaml.safe_load(text)'));
    const result = validate('app/load.py', 'python', PY, fix?.after ?? '', finding);
    expect(result).toEqual({ ok: true, evidence: { parses: true, findingGone: true, newFindings: 0, changedLines: 2, ruleset: expect.stringMatching(/^[0-9a-f]{16}$/) } });
  });

  it('rejects an unchanged file', () => {
    expect(validate('app/load.py', 'python', PY, PY, finding)).toMatchObject({ ok: false, code: 'NO_CHANGE' });
  });

  it('rejects a change that breaks the syntax', () => {
    const broken = PY.replace('yaml.load(text)', 'yaml.safe_load(text');
    const result = validate('app/load.py', 'python', PY, broken, finding);
    expect(result).toMatchObject({ ok: false, code: 'PARSE_ERROR' });
  });

  it('rejects a dropped closing token that the parser papers over with a missing node', () => {
    const java = 'class A {\n  void f() {\n    java.security.MessageDigest.getInstance("MD5");\n  }\n}\n';
    const md5 = findingOf('A.java', java, 'java.weak-hash');
    const result = validate('A.java', 'java', java, java.replace('getInstance("MD5");', 'getInstance("SHA-256";'), md5);
    expect(result).toMatchObject({ ok: false, code: 'PARSE_ERROR' });
  });

  it('accepts a file that had syntax errors before as long as the change adds none', () => {
    const before = `${PY}\ndef broken(:\n    pass\n`;
    const f = findingOf('app/load.py', before, 'python.yaml-load');
    const after = before.replace('yaml.load(text)', 'yaml.safe_load(text)');
    expect(syntaxProblems('python', before)).toBeGreaterThan(0);
    expect(validate('app/load.py', 'python', before, after, f)).toMatchObject({ ok: true });
  });

  it('rejects a change that leaves the finding', () => {
    const after = PY.replace('def load(text):', 'def load(text):\n    # parse the document');
    expect(validate('app/load.py', 'python', PY, after, finding)).toMatchObject({ ok: false, code: 'FINDING_REMAINS' });
  });

  it('rejects a change that only rewrites the flagged code into another vulnerable form', () => {
    const after = PY.replace('yaml.load(text)', 'yaml.load(str(text))');
    expect(validate('app/load.py', 'python', PY, after, finding)).toMatchObject({ ok: false, code: 'FINDING_REMAINS' });
  });

  it('rejects a change that adds a finding', () => {
    const after = PY.replace('import yaml', 'import hashlib\nimport yaml').replace('yaml.load(text)', 'yaml.safe_load(text), hashlib.md5(text)');
    const result = validate('app/load.py', 'python', PY, after, finding);
    expect(result).toMatchObject({ ok: false, code: 'NEW_FINDINGS' });
    expect(result.ok ? '' : result.reason).toContain('python.weak-hash');
  });

  it('rejects a change larger than the bound', () => {
    const after = PY.replace('yaml.load(text)', 'yaml.safe_load(text)') + Array.from({ length: 50 }, (_, i) => `X${i} = ${i}`).join('\n');
    expect(validate('app/load.py', 'python', PY, after, finding)).toMatchObject({ ok: false, code: 'TOO_LARGE' });
    const fixed = PY.replace('yaml.load(text)', 'yaml.safe_load(text)');
    expect(validate('app/load.py', 'python', PY, fixed, finding, 1)).toMatchObject({ ok: false, code: 'TOO_LARGE' });
  });

  it('tells repeated identical findings apart when one of them is fixed', () => {
    const js = ['function a() {', '  const sessionToken = Math.random();', '}', 'function b() {', '  const sessionToken = Math.random();', '}', ''].join('\n');
    const first = findingOf('web/a.js', js, 'javascript.weak-random', 2);
    const second = findingOf('web/a.js', js, 'javascript.weak-random', 5);
    const fix = buildRuleFix(first, js);
    expect(validate('web/a.js', 'javascript', js, fix?.after ?? '', first)).toMatchObject({ ok: true });
    // The same change validated against the other finding: that one is still there.
    expect(validate('web/a.js', 'javascript', js, fix?.after ?? '', second)).toMatchObject({ ok: false, code: 'FINDING_REMAINS' });
  });

  it('re-scans with taint tracking: a change that keeps the flow is not a fix', () => {
    const js = [
      "const express = require('express');",
      "const mysql = require('mysql');",
      'const app = express();',
      'const conn = mysql.createConnection({});',
      "app.get('/u', (req, res) => {",
      '  const id = req.query.id;',
      "  conn.query('SELECT * FROM users WHERE id = ' + id);",
      '});',
      '',
    ].join('\n');
    const flow = findingOf('api/u.js', js, 'javascript.taint.sql-injection');
    const reworded = js.replace("conn.query('SELECT * FROM users WHERE id = ' + id);", 'const text = `SELECT * FROM users WHERE id = ${id}`;\n  conn.query(text);');
    expect(validate('api/u.js', 'javascript', js, reworded, flow)).toMatchObject({ ok: false, code: 'FINDING_REMAINS' });
    const fix = buildRuleFix(flow, js);
    expect(fix?.after).toContain("conn.query('SELECT * FROM users WHERE id = ?', [id]);");
    expect(validate('api/u.js', 'javascript', js, fix?.after ?? '', flow)).toMatchObject({ ok: true });
  });

  it('still checks files whose path a repository scan would skip', () => {
    const f = findingOf('load.py', PY, 'python.yaml-load');
    const vendored = { ...f, location: { ...f.location, path: 'node_modules/pkg/load.py' } };
    expect(validate('node_modules/pkg/load.py', 'python', PY, PY.replace('def load(text):', 'def load(text):\n    pass'), vendored)).toMatchObject({ ok: false, code: 'FINDING_REMAINS' });
  });
});

describe('buildRuleFix', () => {
  it('has nothing for a rule without a rewrite', () => {
    const source = 'import pickle\n\ndef f(data):\n    return pickle.loads(data)\n';
    const f = scanFiles([{ path: 'a.py', source }]).findings[0];
    expect(f).toBeDefined();
    expect(buildRuleFix(f as Finding, source)).toBeUndefined();
  });

  it('declines a shape it cannot rewrite safely', () => {
    const source = "import os\nfrom flask import request\n\ndef f():\n    os.system(request.args['cmd'])\n";
    const f = findingOf('a.py', source, 'python.taint.command-injection');
    expect(buildRuleFix(f, source)).toBeUndefined();
  });

  it('adds the import a rewrite needs once', () => {
    const source = 'import os\n\ndef f(host):\n    os.system("ping -c 1 " + host)\n';
    const f = findingOf('a.py', source, 'python.command-injection');
    expect(buildRuleFix(f, source)?.after).toBe('import os\nimport subprocess\n\ndef f(host):\n    subprocess.call(["ping", "-c", "1", host])\n');
  });
});

describe('diffLines', () => {
  it('counts added and removed lines and maps unchanged ones', () => {
    const diff = diffLines('a\nb\nc\nd', 'a\nx\nc\nd\ne');
    expect(diff.changedLines).toBe(3);
    expect([...diff.map].slice(1)).toEqual([1, 0, 3, 4]);
  });

  it('is zero for identical texts', () => {
    expect(diffLines('a\nb', 'a\nb').changedLines).toBe(0);
  });
});
