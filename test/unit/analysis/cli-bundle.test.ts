import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli, CLI_MANIFEST, cliBundleFresh } from '../../../bin/build-cli.ts';
import { runCli, type CliIo } from '../../../shared/analysis/cli.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = join(REPO, 'test/fixtures/scan-samples/webshop');

let out: string;
beforeAll(() => {
  // Inside the repository, as dist/cli is: the bundle finds the native parsers in its node_modules.
  mkdirSync(join(REPO, 'dist'), { recursive: true });
  out = mkdtempSync(join(REPO, 'dist', 'cli-test-'));
  buildCli(out);
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function inProcess(args: string[]): Promise<{ code: number; out: string }> {
  const captured = { out: '' };
  const io: CliIo = { cwd: REPO, stdout: { write: (t: string) => (captured.out += t) }, stderr: { write: () => true } };
  return runCli(args, io).then((code) => ({ code, out: captured.out }));
}

function withoutTimings(json: string): unknown {
  const doc = JSON.parse(json) as { summary: { durationMs?: number } };
  delete doc.summary.durationMs;
  return doc;
}

describe('the bundled CLI', () => {
  it('ships the entry, its worker, the rules with their snapshot and the taint specs as JSON', () => {
    for (const file of ['codeguardian.mjs', 'scan-worker.mjs', CLI_MANIFEST, 'rules/compiled.json', 'specs/java.json', 'specs/python.json']) {
      expect(existsSync(join(out, file))).toBe(true);
    }
    expect(readdirSync(join(out, 'specs')).some((f) => f.endsWith('.yml'))).toBe(false);
  });

  it('is fresh right after the build, and stale once its manifest names another version', () => {
    expect(cliBundleFresh(out)).toBe(true);
    const path = join(out, CLI_MANIFEST);
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { version: string; inputs: string[] };
    expect(manifest.inputs).not.toContain('package.json');
    writeFileSync(path, JSON.stringify({ ...manifest, version: '0.0.0-other' }));
    try {
      expect(cliBundleFresh(out)).toBe(false);
    } finally {
      writeFileSync(path, JSON.stringify(manifest));
    }
  });

  it('reports exactly what the sources report, with the same exit code', async () => {
    const bundled = spawnSync(process.execPath, [join(out, 'codeguardian.mjs'), 'scan', SAMPLE, '--format', 'json'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    const source = await inProcess(['scan', SAMPLE, '--format', 'json']);
    expect(bundled.status).toBe(source.code);
    expect(bundled.status).toBe(1);
    expect(withoutTimings(bundled.stdout)).toEqual(withoutTimings(source.out));
  }, 60_000);

  it('scans a larger tree with its worker threads, as the sources do', async () => {
    const tree = mkdtempSync(join(tmpdir(), 'cg-cli-bundle-tree-'));
    try {
      for (let i = 0; i < 12; i++) cpSync(SAMPLE, join(tree, `p${i}`), { recursive: true });
      const bundled = spawnSync(process.execPath, [join(out, 'codeguardian.mjs'), 'scan', tree, '--format', 'json'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
      const source = await inProcess(['scan', tree, '--format', 'json']);
      const doc = withoutTimings(bundled.stdout) as { summary: { filesScanned: number; findings: number } };
      expect(doc.summary.filesScanned).toBeGreaterThanOrEqual(48);
      expect(doc.summary.findings).toBeGreaterThan(0);
      expect(doc).toEqual(withoutTimings(source.out));
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  }, 180_000);

  it('prints the package version', () => {
    const version = spawnSync(process.execPath, [join(out, 'codeguardian.mjs'), '--version'], { encoding: 'utf8' });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(version.status).toBe(0);
  });
});
