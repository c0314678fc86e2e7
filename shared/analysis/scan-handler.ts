/** What scanning one path of a directory does in `scanDirectoryParallel`, on a worker thread or on the main one. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanConfig } from './config.ts';
import type { RuleSet } from './rule-pack.ts';
import { createFileScanner, type FileOutcome } from './scanner.ts';
import type { Severity } from './types.ts';

export interface ScanWorkerData {
  readonly dir: string;
  readonly config: ScanConfig;
  readonly severityThreshold?: Severity;
  /** The main thread's rule set, already validated and compiled: workers do not load the packs again. */
  readonly ruleSet: RuleSet;
}

/** Scans one path under `data.dir`; reports the bytes parsed, which drive the collections that free trees. */
export function createScanHandler(data: ScanWorkerData): (path: string) => { result: FileOutcome; parsedBytes: number } {
  const scanOne = createFileScanner({
    config: data.config,
    ruleSet: data.ruleSet,
    ...(data.severityThreshold ? { severityThreshold: data.severityThreshold } : {}),
  });
  return (path) => {
    let parsedBytes = 0;
    const result = scanOne({
      path,
      load: () => {
        const content = readFileSync(join(data.dir, path));
        parsedBytes = content.length;
        return content;
      },
    });
    return { result, parsedBytes: result.parsed ? parsedBytes : 0 };
  };
}
