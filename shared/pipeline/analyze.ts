/**
 * The analyze step for one shard: only the shard's files are extracted from the stored archive into a folder of
 * their own (archive defences, real-path checks, content hashes checked against the manifest), each file is
 * scanned, its results go to the analysis cache, and the shard's findings to the findings store.
 */
import { readFile, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isRuleEnabled } from '../analysis/config.ts';
import { defaultAnalyzers } from '../analysis/analyzers.ts';
import type { SkippedFile } from '../analysis/files.ts';
import { getRuleSet } from '../analysis/rule-pack.ts';
import { scanFiles, type ScanError } from '../analysis/scanner.ts';
import { recordShardDone } from '../db/scan-progress.ts';
import type { Shard } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { cacheEntryKey, writeScanCacheEntries, type CacheEntries } from './analysis-cache.ts';
import { extractedPath, extractFiles } from './archive.ts';
import { writeFindingsPart, type ScanFinding } from './findings-store.ts';
import type { ScanPlan } from './plan.ts';
import { percentOf, publishProgress, withHeartbeat } from './progress.ts';
import type { ManifestFile } from './source.ts';
import { keys, readStream, requireJson } from './storage.ts';

export interface ShardResult {
  readonly shardIndex: number;
  readonly filesAnalyzed: number;
  readonly findings: number;
  readonly errors: number;
}

/** Where a shard's files are extracted: one folder per scan and shard under the temp folder, removed afterwards. */
export function shardFolder(scanId: string, shardIndex: number): string {
  return join(tmpdir(), 'codeguardian-scans', scanId, `shard-${shardIndex}`);
}

const yieldToTimers = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function analyzeShard(shard: Shard): Promise<ShardResult> {
  const plan = await requireJson<ScanPlan>(keys.plan(shard.scanId));
  const files = await requireJson<ManifestFile[]>(shard.filesKey);
  const ruleSet = getRuleSet();
  if (ruleSet.version !== plan.rulesetVersion) {
    // A deployment between plan and analysis: results are still correct, but cached under the running version.
    logger.warn('Ruleset changed between plan and analysis', { planned: plan.rulesetVersion, running: ruleSet.version });
  }
  const folder = shardFolder(shard.scanId, shard.shardIndex);
  const scan = { scanId: shard.scanId, userId: shard.userId, repositoryId: shard.repositoryId };
  let done = 0;
  try {
    await rm(folder, { recursive: true, force: true });
    await extractFiles(await readStream(shard.sourceKey), new Map(files.map((f) => [f.path, f.sha256])), folder);
    const analyzers = defaultAnalyzers({ ruleSet, ruleFilter: (rule) => isRuleEnabled(plan.config, rule.id, rule.cwe) });
    const findings: ScanFinding[] = [];
    const skipped: SkippedFile[] = [];
    const errors: ScanError[] = [];
    const cacheEntries: CacheEntries = {};
    let filesScanned = 0;
    let linesScanned = 0;
    await withHeartbeat(
      scan,
      'analyzeShard',
      // Shards run in parallel; this shard's own position is the estimate between the counted completions.
      () => (shard.shardIndex + done / Math.max(1, files.length)) / shard.shardCount,
      async () => {
        for (const file of files) {
          const source = await readFile(extractedPath(folder, file.path), 'utf8');
          const result = scanFiles([{ path: file.path, source }], { config: plan.config, ruleSet, analyzers });
          const fileFindings = [...result.findings, ...result.suppressed];
          findings.push(...fileFindings);
          skipped.push(...result.skipped);
          errors.push(...result.errors);
          filesScanned += result.filesScanned;
          linesScanned += result.linesScanned;
          // A file whose analysis hit an error is analysed again next time rather than cached incomplete.
          if (result.errors.length === 0) {
            cacheEntries[cacheEntryKey(file)] = {
              findings: fileFindings,
              lines: result.linesScanned,
              scanned: result.filesScanned > 0,
              ...(result.skipped[0] ? { skipped: result.skipped[0].reason } : {}),
            };
          }
          done++;
          await yieldToTimers();
        }
      },
    );
    await writeFindingsPart(shard.scanId, { part: `shard-${shard.shardIndex}`, findings, filesScanned, linesScanned, skipped, errors });
    await writeScanCacheEntries(shard.scanId, `shard-${shard.shardIndex}`, cacheEntries);
    const counted = await recordShardDone(shard.scanId, done);
    const total = counted.shardsTotal ?? shard.shardCount;
    await publishProgress(scan, 'analyzeShard', percentOf('analyzeShard', (counted.shardsDone ?? 0) / total), {
      shardsDone: counted.shardsDone ?? 0,
      shardsTotal: total,
      filesAnalyzed: counted.filesAnalyzed ?? done,
    });
    return { shardIndex: shard.shardIndex, filesAnalyzed: done, findings: findings.filter((f) => !f.suppression).length, errors: errors.length };
  } finally {
    await rm(folder, { recursive: true, force: true });
    // The scan's folder goes with its last shard; other shards of the scan may still be using it.
    await rmdir(dirname(folder)).catch(() => undefined);
  }
}
