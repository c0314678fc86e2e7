import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanDirectoryParallel } from '../../../shared/analysis/parallel-scan.ts';
import { scanDirectory, type ScanProgress, type ScanResult } from '../../../shared/analysis/scanner.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';

const SAMPLE = fileURLToPath(new URL('../../fixtures/scan-samples/webshop/', import.meta.url));

let tree: string;
beforeAll(() => {
  tree = mkdtempSync(join(tmpdir(), 'cg-parallel-'));
  // Twelve copies of a project with findings, a vendored folder and docs: 60 candidate files, enough for workers.
  for (let i = 0; i < 12; i++) cpSync(SAMPLE, join(tree, `p${i}`), { recursive: true });
  mkdirSync(join(tree, 'extra'));
  writeFileSync(join(tree, 'extra', 'min.js'), `var a=${'1+'.repeat(1500)}1;\n`);
  writeFileSync(join(tree, 'extra', 'blob.py'), Buffer.from([0x70, 0x00, 0x01]));
  writeFileSync(join(tree, 'extra', 'kept.py'), 'import hashlib\nh = hashlib.md5(b"x")  # nosec cache key\nos.system(input())\n');
});
afterAll(() => rmSync(tree, { recursive: true, force: true }));

function comparable(result: ScanResult): Omit<ScanResult, 'durationMs'> {
  const { durationMs: _durationMs, ...rest } = result;
  return rest;
}

describe('scanDirectoryParallel', () => {
  it('finds exactly what the single-threaded scan finds, in the same order', async () => {
    const parallel = await scanDirectoryParallel(tree, { workers: 2 });
    const serial = scanDirectory(tree);
    expect(parallel.filesScanned).toBeGreaterThanOrEqual(48);
    expect(parallel.findings.length).toBeGreaterThan(12);
    expect(parallel.suppressed.map((f) => f.location.path)).toContain('extra/kept.py');
    expect(parallel.skipped).toEqual(expect.arrayContaining([{ path: 'extra/min.js', reason: 'minified' }, { path: 'extra/blob.py', reason: 'binary' }]));
    expect(comparable(parallel)).toEqual(comparable(serial));
  }, 120_000);

  it('applies the threshold and reports progress up to completion', async () => {
    const events: ScanProgress[] = [];
    const high = await scanDirectoryParallel(tree, { workers: 2, severityThreshold: 'critical', onProgress: (p) => events.push(p) });
    expect(high.findings.length).toBeGreaterThan(0);
    expect(high.findings.every((f) => f.severity === 'critical')).toBe(true);
    expect(comparable(high)).toEqual(comparable(scanDirectory(tree, { severityThreshold: 'critical' })));
    const last = events[events.length - 1];
    expect(last?.filesDone).toBe(last?.filesTotal);
    expect(events.map((e) => e.filesDone)).toEqual([...events.map((e) => e.filesDone)].sort((a, b) => a - b));
  }, 120_000);

  it('runs in this thread when given its own analyzers, which cannot cross to a worker', async () => {
    let calls = 0;
    const structural = createStructuralAnalyzer();
    const counting = { ...structural, analyze: (file: Parameters<typeof structural.analyze>[0]) => (calls++, structural.analyze(file)) };
    const result = await scanDirectoryParallel(tree, { workers: 2, analyzers: [counting] });
    expect(calls).toBe(result.filesScanned);
    expect(result.filesScanned).toBeGreaterThan(0);
  }, 120_000);

  it('scans a small tree in this thread with the same result', async () => {
    const small = join(tree, 'p0');
    expect(comparable(await scanDirectoryParallel(small))).toEqual(comparable(scanDirectory(small)));
  }, 60_000);

  it('rejects when the directory does not exist', async () => {
    await expect(scanDirectoryParallel(join(tree, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});
