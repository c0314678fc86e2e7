/**
 * `scanDirectoryParallel`: the same scan as `scanDirectory`, spread over worker threads (one per core by
 * default, this one included). The main thread walks the tree and hands out batches of paths, largest files first,
 * scanning some itself; each worker parses and analyses its files and sends back only their outcomes, so memory
 * stays flat however many files the tree holds.
 */
import { DEFAULT_CONFIG } from './config.ts';
import { getRuleSet } from './rule-pack.ts';
import { compareFindings, listScanPaths, scanDirectory, type FileOutcome, type ScanError, type ScanOptions, type ScanResult } from './scanner.ts';
import { createScanHandler, type ScanWorkerData } from './scan-handler.ts';
import type { SkippedFile } from './files.ts';
import type { Finding } from './types.ts';
import { defaultWorkerCount, runPool } from './worker-pool.ts';

export interface ParallelScanOptions extends ScanOptions {
  /** Threads that scan, this one included. @default one per core (`os.availableParallelism()`) */
  readonly workers?: number;
}

/** Files per batch: small enough to balance the workers, large enough that messages cost little. */
export const SCAN_BATCH_SIZE = 16;
/** Below this many files a scan runs in this thread: starting workers would cost more than it saves. */
const MIN_FILES_FOR_WORKERS = 48;

/** The worker module beside this one: TypeScript from source, or the bundled `.mjs` next to the CLI bundle. */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './scan-worker.ts' : './scan-worker.mjs', import.meta.url);
}

/**
 * Scans a directory on disk with worker threads. Custom analyzers cannot cross to a worker, so a scan given
 * `analyzers` runs in this thread, as does a small tree. Progress is reported per finished batch.
 */
export async function scanDirectoryParallel(dir: string, options: ParallelScanOptions = {}): Promise<ScanResult> {
  const started = performance.now();
  const { paths, sizes, skipped } = listScanPaths(dir, options);
  const workers = Math.max(1, Math.floor(options.workers ?? defaultWorkerCount()));
  if (options.analyzers || paths.length < MIN_FILES_FOR_WORKERS) {
    const { workers: _workers, ...rest } = options;
    return scanDirectory(dir, rest);
  }
  const ruleSet = options.ruleSet ?? getRuleSet();
  const data: ScanWorkerData = {
    dir,
    config: options.config ?? DEFAULT_CONFIG,
    ...(options.severityThreshold ? { severityThreshold: options.severityThreshold } : {}),
    ruleSet,
  };
  let done = 0;
  options.onProgress?.({ filesDone: 0, filesTotal: paths.length, path: paths[0] ?? '' });
  const outcomes = await runPool<FileOutcome>({
    worker: workerUrl(),
    workerData: data,
    paths,
    // This thread scans too: one worker fewer to start, and it works while the others start.
    workers: workers - 1,
    local: createScanHandler(data),
    batchSize: SCAN_BATCH_SIZE,
    // Scan time grows with a file's size: the largest go first, in smaller batches.
    weights: paths.map((p) => sizes.get(p) ?? 0),
    onBatch: (batch) => {
      done += batch.length;
      options.onProgress?.({ filesDone: done, filesTotal: paths.length, path: batch[batch.length - 1] ?? '' });
    },
  });
  const findings: Finding[] = [];
  const suppressed: Finding[] = [];
  const errors: ScanError[] = [];
  const contentSkipped: SkippedFile[] = [];
  let filesScanned = 0;
  let linesScanned = 0;
  for (const outcome of outcomes) {
    if (outcome.skipped) contentSkipped.push(outcome.skipped);
    errors.push(...outcome.errors);
    findings.push(...outcome.findings);
    suppressed.push(...outcome.suppressed);
    if (outcome.scanned) filesScanned++;
    linesScanned += outcome.lines;
  }
  if (done < paths.length) options.onProgress?.({ filesDone: paths.length, filesTotal: paths.length, path: '' });
  return {
    findings: findings.sort(compareFindings),
    suppressed: suppressed.sort(compareFindings),
    filesScanned,
    linesScanned,
    skipped: [...skipped, ...contentSkipped],
    errors,
    durationMs: Math.round(performance.now() - started),
    rulesetVersion: ruleSet.version,
  };
}
