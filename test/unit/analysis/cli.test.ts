import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliIo } from '../../../shared/analysis/cli.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = join(REPO, 'test/fixtures/scan-samples/webshop');

interface Captured extends CliIo {
  out: string;
  err: string;
}

function io(cwd: string): Captured {
  const captured = {
    out: '',
    err: '',
    cwd,
    stdout: { write: (t: string) => (captured.out += t) },
    stderr: { write: (t: string) => (captured.err += t) },
  };
  return captured;
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'cg-cli-'));
  cpSync(SAMPLE, work, { recursive: true });
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('codeguardian scan (in process)', () => {
  it('reports the sample project in JSON with only the document on stdout, and exits 1', async () => {
    const c = io(work);
    expect(await runCli(['scan', '.', '--format', 'json'], c)).toBe(1);
    const doc = JSON.parse(c.out) as { findings: { ruleId: string; cwe: string[]; location: { path: string; startLine: number } }[]; suppressed: { ruleId: string }[]; skipped: { path: string; reason: string }[] };
    // Structural rules and taint tracking may both see the SQL injection; it is reported once.
    expect(doc.findings.map((f) => `${f.location.path}:${f.location.startLine}:${f.cwe[0]}`).sort()).toEqual([
      'src/server.js:17:CWE-89',
      'src/utils/config_loader.py:8:CWE-502',
      'src/utils/config_loader.py:9:CWE-328',
    ]);
    expect(doc.suppressed.map((f) => f.ruleId)).toEqual(['javascript.weak-hash']);
    expect(doc.skipped).toEqual(expect.arrayContaining([{ path: 'vendor', reason: 'vendored' }, { path: 'docs/example.js', reason: 'ignored' }]));
    expect(c.err).toBe('');
  });

  it('applies --fail-on', async () => {
    expect(await runCli(['scan', work, '--fail-on', 'critical', '--format', 'json'], io(REPO))).toBe(1);
    writeFileSync(join(work, 'src/server.js'), "module.exports = require('./app');\n");
    expect(await runCli(['scan', work, '--fail-on', 'critical', '--format', 'json'], io(REPO))).toBe(0);
    expect(await runCli(['scan', work, '--fail-on', 'high', '--format', 'json'], io(REPO))).toBe(1);
  });

  it('writes SARIF to --output and keeps stdout empty', async () => {
    const c = io(work);
    expect(await runCli(['scan', '--format', 'sarif', '--output', 'out.sarif'], c)).toBe(1);
    expect(c.out).toBe('');
    const log = JSON.parse(readFileSync(join(work, 'out.sarif'), 'utf8')) as { version: string; runs: { results: unknown[] }[] };
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]?.results).toHaveLength(4);
  });

  it('--fix rewrites the fixable findings and reports what remains', async () => {
    const c = io(work);
    expect(await runCli(['scan', '--fix', '--format', 'json'], c)).toBe(0);
    const py = readFileSync(join(work, 'src/utils/config_loader.py'), 'utf8');
    expect(py).toContain('yaml.safe_load(fh)');
    expect(py).toContain('hashlib.sha256(repr(settings).encode())');
    const js = readFileSync(join(work, 'src/server.js'), 'utf8');
    expect(js).toContain("db.query('SELECT * FROM orders WHERE id = ?', [req.params.id], (err, rows) => res.json(rows));");
    const doc = JSON.parse(c.out) as { findings: { cwe: string[]; location: { path: string } }[] };
    expect(doc.findings).toEqual([]);
    expect(c.err).toMatch(/applied 3 fixes in 2 files/);
  });

  it('--changed-since scans only files changed since the revision', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: work, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'base');
    writeFileSync(join(work, 'src/new.js'), "eval(req.query.code);\n");
    const c = io(work);
    expect(await runCli(['scan', '--changed-since', 'HEAD', '--format', 'json'], c)).toBe(1);
    const doc = JSON.parse(c.out) as { findings: { type: string; location: { path: string } }[] };
    expect(doc.findings.map((f) => `${f.location.path}:${f.type}`)).toEqual(['src/new.js:Code Injection']);
    const bad = io(work);
    expect(await runCli(['scan', '--changed-since', 'no-such-ref'], bad)).toBe(2);
    expect(bad.err).toMatch(/--changed-since no-such-ref: git diff failed/);
  });

  it.each([
    [['scan', '--format', 'xml'], /--format must be one of text, json, sarif/],
    [['scan', '--fail-on', 'severe'], /--fail-on must be one of/],
    [['scan', '--bogus'], /Unknown option '--bogus'/],
    [['lint'], /unknown command "lint"/],
    [[], /missing command/],
    [['scan', 'does-not-exist'], /not a directory: does-not-exist/],
    [['scan', '--config', 'missing.yml'], /config file not found: missing.yml/],
  ])('exits 2 on usage errors: %j', async (args, message) => {
    const c = io(work);
    expect(await runCli(args, c)).toBe(2);
    expect(c.err).toMatch(message);
    expect(c.out).toBe('');
  });

  it('exits 2 on an invalid configuration, naming the key', async () => {
    writeFileSync(join(work, '.codeguardian.yml'), 'severityThreshold: severe\n');
    const c = io(work);
    expect(await runCli(['scan'], c)).toBe(2);
    expect(c.err).toMatch(/\.codeguardian\.yml: severityThreshold/);
  });

  it('prints help and version', async () => {
    const help = io(work);
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.out).toMatch(/Usage: codeguardian scan/);
    const version = io(work);
    expect(await runCli(['--version'], version)).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('the codeguardian bin', () => {
  const bin = join(REPO, 'bin/codeguardian.ts');
  const run = (args: string[]) => spawnSync(join(REPO, 'node_modules/.bin/tsx'), [bin, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });

  it('exits 1 with findings and 0 without, printing only the document on stdout', () => {
    const withFindings = run(['scan', '.', '--format', 'sarif']);
    expect(withFindings.status).toBe(1);
    expect(JSON.parse(withFindings.stdout)).toMatchObject({ version: '2.1.0' });
    const clean = run(['scan', 'src/api', '--format', 'json']);
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ summary: { findings: 0 } });
  }, 120_000);

  it('exits 2 on a usage error with the message on stderr', () => {
    const bad = run(['scan', '--format', 'pdf']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format must be one of/);
    expect(bad.stdout).toBe('');
  }, 60_000);
});
