import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import type AjvDraft04 from 'ajv-draft-04';
import type AddFormats from 'ajv-formats';
import { getRuleSet } from '../../../shared/analysis/rule-pack.ts';
import { scanFiles, type ScanResult } from '../../../shared/analysis/scanner.ts';
import { FINGERPRINT_KEY, toSarif } from '../../../shared/analysis/output/sarif.ts';
import { toJsonReport } from '../../../shared/analysis/output/json.ts';
import { toTextReport } from '../../../shared/analysis/output/text.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';
import type { Finding } from '../../../shared/analysis/types.ts';

const require = createRequire(import.meta.url);
// Both packages are CommonJS whose module.exports is the function itself.
const Ajv = require('ajv-draft-04') as typeof AjvDraft04.default;
const addFormats = require('ajv-formats') as typeof AddFormats.default;
// The official OASIS SARIF 2.1.0 schema (JSON Schema draft-04), as shipped by @microsoft/jest-sarif.
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
// The schema's language-tag pattern is not valid under the u flag, so patterns compile without it.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

const ruleSet = getRuleSet();
const scanned = scanFiles(
  [
    { path: 'src/db.js', source: "db.query('SELECT * FROM t WHERE id = ' + id);\nconst h = crypto.createHash('md5'); // nosemgrep: weak-hash legacy\n" },
    { path: 'src/conf.py', source: 'import yaml\nconf = yaml.load(text)\n' },
  ],
  { analyzers: [createStructuralAnalyzer({ ruleSet })] },
);

const taintFinding: Finding = {
  ruleId: 'taint.python.sql-injection', kind: 'taint', type: 'SQL Injection', message: 'Request data reaches a SQL query.',
  severity: 'critical', confidence: 'high', cwe: ['CWE-89'], location: { path: 'app/views.py', startLine: 9, startColumn: 5, endLine: 9, endColumn: 30 },
  snippet: 'cur.execute(q)', fingerprint: 'f'.repeat(32),
  dataflow: [
    { path: 'app/views.py', startLine: 7, startColumn: 9, endLine: 7, endColumn: 30, label: 'request parameter "id"' },
    { path: 'app/views.py', startLine: 8, startColumn: 5, endLine: 8, endColumn: 40, label: 'concatenated into query' },
    { path: 'app/views.py', startLine: 9, startColumn: 5, endLine: 9, endColumn: 30, label: 'passed to cur.execute' },
  ],
};
const withTaint: ScanResult = { ...scanned, findings: [...scanned.findings, taintFinding] };

describe('SARIF output', () => {
  const log = toSarif(withTaint, { toolVersion: '1.2.3', rules: ruleSet.rules });

  it('validates against the SARIF 2.1.0 schema', () => {
    const ok = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the validator rejects a malformed log', () => {
    const broken = JSON.parse(JSON.stringify(log)) as { runs: { results: { level: string }[] }[] };
    (broken.runs[0]?.results[0] as { level: string }).level = 'fatal';
    expect(validate(broken)).toBe(false);
  });

  it('an empty scan is valid too', () => {
    const empty = toSarif({ ...scanned, findings: [], suppressed: [] }, { toolVersion: '1.2.3' });
    expect(validate(empty)).toBe(true);
    expect(empty.runs[0]?.results).toEqual([]);
  });

  it('describes the rules the way code scanning expects', () => {
    const driver = log.runs[0]?.tool.driver;
    expect(driver).toMatchObject({ name: 'CodeGuardian', version: '1.2.3' });
    const sql = driver?.rules?.find((r) => r.id === 'javascript.sql-injection');
    expect(sql).toMatchObject({
      name: 'SqlInjection',
      shortDescription: { text: 'SQL Injection' },
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '9.8', precision: 'high' },
    });
    expect(sql?.fullDescription?.text).toMatch(/parameters/);
    expect(sql?.helpUri).toMatch(/^https:\/\//);
    expect(sql?.properties?.tags).toEqual(expect.arrayContaining(['security', 'external/cwe/cwe-89']));
  });

  it('gives results rule indexes, locations, fingerprints, fixes, flows and suppressions', () => {
    const results = log.runs[0]?.results ?? [];
    const rules = log.runs[0]?.tool.driver.rules ?? [];
    for (const r of results) {
      expect(rules[r.ruleIndex as number]?.id).toBe(r.ruleId);
      expect(r.partialFingerprints?.[FINGERPRINT_KEY]).toMatch(/^[0-9a-f]{32}$/);
    }
    const sql = results.find((r) => r.ruleId === 'javascript.sql-injection');
    expect(sql?.locations?.[0]?.physicalLocation).toMatchObject({ artifactLocation: { uri: 'src/db.js' }, region: { startLine: 1, startColumn: 1 } });
    const yaml = results.find((r) => r.ruleId === 'python.yaml-load');
    expect(yaml?.fixes?.[0]?.artifactChanges[0]?.replacements[0]?.insertedContent?.text).toBe('yaml.safe_load(text)');
    const flow = results.find((r) => r.ruleId === 'taint.python.sql-injection');
    expect(flow?.codeFlows?.[0]?.threadFlows[0]?.locations.map((l) => l.location?.message?.text)).toEqual([
      'request parameter "id"', 'concatenated into query', 'passed to cur.execute',
    ]);
    const suppressed = results.find((r) => r.ruleId === 'javascript.weak-hash');
    expect(suppressed?.suppressions).toEqual([{ kind: 'inSource', justification: 'legacy' }]);
  });
});

describe('JSON and text output', () => {
  it('JSON carries the findings and a severity summary', () => {
    const doc = JSON.parse(toJsonReport(scanned, '1.2.3')) as { summary: { bySeverity: Record<string, number>; findings: number }; findings: unknown[] };
    expect(doc.summary.findings).toBe(scanned.findings.length);
    expect(doc.summary.bySeverity.critical).toBe(1);
    expect(doc.findings).toHaveLength(scanned.findings.length);
  });

  it('text groups by file and uses colour only when asked', () => {
    const plain = toTextReport(scanned, { colour: false });
    expect(plain).toMatch(/^src\/conf\.py$/m);
    expect(plain).toMatch(/CRITICAL\s+SQL Injection \(javascript\.sql-injection, CWE-89\)/);
    expect(plain.includes('\u001b[')).toBe(false);
    expect(toTextReport(scanned, { colour: true }).includes('\u001b[')).toBe(true);
  });
});
