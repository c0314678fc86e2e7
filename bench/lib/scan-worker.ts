/**
 * Runs in a child process so its timing and peak memory are its own: `parse` reads and parses every file the
 * scanner would (the floor), `scan` runs the full CodeGuardian scan. Both spread the files over the same threads
 * (this one and a worker per further core, same batches, same collections), so the ratio compares like with like.
 * Prints one JSON line.
 */
import { getRuleSet } from '../../shared/analysis/rule-pack.ts';
import { parseOne } from './floor-worker.ts';
import { SCAN_BATCH_SIZE, scanDirectoryParallel } from '../../shared/analysis/parallel-scan.ts';
import { listScanPaths } from '../../shared/analysis/scanner.ts';
import { defaultWorkerCount, runPool } from '../../shared/analysis/worker-pool.ts';

export interface WorkerResult {
  readonly mode: 'parse' | 'scan';
  readonly ms: number;
  readonly files: number;
  readonly findings: number;
  readonly workers: number;
  readonly maxRssMb: number;
}

async function parseFloor(dir: string, workers: number): Promise<number> {
  const { paths, sizes } = listScanPaths(dir);
  const weights = paths.map((p) => sizes.get(p) ?? 0);
  // The same split as the scan: this thread works alongside workers - 1 worker threads.
  const counted = await runPool<number>({
    // Beside this module: the TypeScript source, or the bundled `.mjs` the benchmark runs.
    worker: new URL(import.meta.url.endsWith('.ts') ? './floor-worker.ts' : './floor-worker.mjs', import.meta.url),
    workerData: { dir },
    paths,
    workers: workers - 1,
    local: (path) => parseOne(dir, path),
    batchSize: SCAN_BATCH_SIZE,
    weights,
  });
  return counted.reduce((a, b) => a + b, 0);
}

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'scan') || !dir) {
  console.error('usage: scan-worker.ts parse|scan <dir>');
  process.exit(2);
}
const workers = defaultWorkerCount();
// The rule packs load before the clock starts, as the parse floor has no rules to load.
const ruleSet = mode === 'scan' ? getRuleSet() : undefined;
const started = performance.now();
let files = 0;
let findings = 0;
if (mode === 'parse') {
  files = await parseFloor(dir, workers);
} else {
  const result = await scanDirectoryParallel(dir, { workers, ...(ruleSet ? { ruleSet } : {}) });
  files = result.filesScanned;
  findings = result.findings.length;
}
const ms = performance.now() - started;
const output: WorkerResult = { mode, ms, files, findings, workers, maxRssMb: process.resourceUsage().maxRSS / 1024 };
console.log(JSON.stringify(output));
