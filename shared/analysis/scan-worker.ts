/** A worker thread of `scanDirectoryParallel`: scans the files of each batch it is sent. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanConfig } from './config.ts';
import type { RuleSet } from './rule-pack.ts';
import { createFileScanner, type FileOutcome } from './scanner.ts';
import type { Severity } from './types.ts';
import { poolWorkerData, serveBatches } from './worker-pool.ts';

export interface ScanWorkerData {
  readonly dir: string;
  readonly config: ScanConfig;
  readonly severityThreshold?: Severity;
  /** The main thread's rule set, already validated and compiled: workers do not load the packs again. */
  readonly ruleSet: RuleSet;
}

const data = poolWorkerData<ScanWorkerData>();
const scanOne = createFileScanner({
  config: data.config,
  ruleSet: data.ruleSet,
  ...(data.severityThreshold ? { severityThreshold: data.severityThreshold } : {}),
});

serveBatches<FileOutcome>((path) => {
  let parsedBytes = 0;
  const result = scanOne({
    path,
    load: () => {
      const content = readFileSync(join(data.dir, path));
      parsedBytes = content.length;
      return content;
    },
  });
  return { result, parsedBytes: result.scanned ? parsedBytes : 0 };
});
