/**
 * The plan step: which files of the manifest are analysed, which come from the analysis cache, and how the rest
 * is split into shards for the Map state. A file's cached results are valid for the same path and content under
 * the same ruleset version and effective configuration, so a push that changes one file analyses one file.
 */
import { createHash } from 'node:crypto';
import ignore from 'ignore';
import { atOrAbove, ConfigError, DEFAULT_CONFIG, parseConfigText, type ScanConfig } from '../analysis/config.ts';
import { isVendoredPath, type SkippedFile, type SkipReason } from '../analysis/files.ts';
import { getRuleSet } from '../analysis/rule-pack.ts';
import type { Severity } from '../analysis/types.ts';
import { findRepository } from '../db/repositories.ts';
import { setScanFields } from '../db/scan-progress.ts';
import type { Shard } from '../runtime/jobs.ts';
import { cacheEntryKey, readCacheSnapshot, writeScanCacheEntries, type CacheEntries } from './analysis-cache.ts';
import { ScanRefusedError } from './errors.ts';
import { writeFindingsPart, type ScanFinding } from './findings-store.ts';
import type { Manifest, ManifestFile } from './source.ts';
import { keys, putJson, requireJson } from './storage.ts';

export interface ShardingOptions {
  readonly maxFilesPerShard: number;
  readonly maxBytesPerShard: number;
}

/** A shard is a few seconds to a minute of analysis: well inside the step's timeout, and few archive reads. */
export const DEFAULT_SHARDING: ShardingOptions = { maxFilesPerShard: 1000, maxBytesPerShard: 16 * 1024 * 1024 };

/** What every shard of a scan analyses with; written once by the plan. */
export interface ScanPlan {
  readonly config: ScanConfig;
  readonly configHash: string;
  readonly rulesetVersion: string;
}

export interface PlanResult {
  readonly shards: Shard[];
  readonly filesTotal: number;
  readonly filesCached: number;
  readonly filesToAnalyze: number;
  readonly planKey: string;
}

/** Files no analyzer reads, recognised by name so they are never downloaded from the archive for nothing. */
const BINARY_EXTENSIONS = new Set([
  'png', 'jpg', 'jpeg', 'gif', 'bmp', 'ico', 'webp', 'tif', 'tiff', 'psd', 'pdf', 'zip', 'gz', 'tgz', 'bz2', 'xz', '7z',
  'rar', 'jar', 'war', 'ear', 'class', 'exe', 'dll', 'so', 'dylib', 'o', 'a', 'lib', 'bin', 'woff', 'woff2', 'ttf',
  'otf', 'eot', 'mp3', 'mp4', 'mov', 'avi', 'wav', 'flac', 'ogg', 'webm', 'sqlite', 'db', 'pyc', 'pyo', 'wasm',
]);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The stricter of the repository's and the configuration's thresholds. */
function stricter(a: Severity, b: Severity): Severity {
  return atOrAbove(a, b) ? a : b;
}

/** The repository's `.codeguardian.yml` applied over the defaults; an invalid one refuses the scan with its error. */
export function effectiveConfig(manifest: Pick<Manifest, 'configText'>, repositoryThreshold: Severity): ScanConfig {
  let config = DEFAULT_CONFIG;
  if (manifest.configText !== undefined) {
    try {
      config = parseConfigText(manifest.configText);
    } catch (error) {
      if (error instanceof ConfigError) throw new ScanRefusedError(`Invalid repository configuration: ${error.message}`, 'INVALID_CONFIG');
      throw error;
    }
  }
  return { ...config, severityThreshold: stricter(config.severityThreshold, repositoryThreshold) };
}

/** Splits files into shards of at most `maxFilesPerShard` files and (unless one file alone is larger) `maxBytesPerShard` bytes. */
export function shardFiles(files: readonly ManifestFile[], options: ShardingOptions = DEFAULT_SHARDING): ManifestFile[][] {
  const shards: ManifestFile[][] = [];
  let current: ManifestFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= options.maxFilesPerShard || bytes + file.size > options.maxBytesPerShard)) {
      shards.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

/** Manifest files the analyzers may read, and why the others are left out. */
export function candidateFiles(files: readonly ManifestFile[], config: ScanConfig): { candidates: ManifestFile[]; skipped: SkippedFile[] } {
  const ignored = ignore().add([...config.ignore]);
  const candidates: ManifestFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    const extension = file.path.includes('.') ? file.path.slice(file.path.lastIndexOf('.') + 1).toLowerCase() : '';
    let reason: SkipReason | undefined;
    if (isVendoredPath(file.path)) reason = 'vendored';
    else if (ignored.ignores(file.path)) reason = 'ignored';
    else if (file.size > config.maxFileSize) reason = 'too-large';
    else if (BINARY_EXTENSIONS.has(extension)) reason = 'binary';
    if (reason) skipped.push({ path: file.path, reason });
    else candidates.push(file);
  }
  return { candidates, skipped };
}

export interface PlanInput {
  readonly scanId: string;
  readonly userId: string;
  readonly repositoryId: string;
  readonly manifestKey: string;
  readonly sourceKey: string;
}

export async function planShards(input: PlanInput, sharding: ShardingOptions = DEFAULT_SHARDING): Promise<PlanResult> {
  const repo = await findRepository(input.repositoryId);
  if (!repo) throw new ScanRefusedError('The repository is no longer connected', 'REPOSITORY_NOT_FOUND');
  const manifest = await requireJson<Manifest>(input.manifestKey);
  const config = effectiveConfig(manifest, repo.severityThreshold);
  const plan: ScanPlan = { config, configHash: sha256(JSON.stringify(config)).slice(0, 16), rulesetVersion: getRuleSet().version };
  const { candidates, skipped } = candidateFiles(manifest.files, config);

  const snapshot = await readCacheSnapshot(repo.id, plan);
  const hits: CacheEntries = {};
  const findings: ScanFinding[] = [];
  let filesScanned = 0;
  let linesScanned = 0;
  const misses: ManifestFile[] = [];
  candidates.forEach((file) => {
    const key = cacheEntryKey(file);
    const analysis = Object.hasOwn(snapshot, key) ? snapshot[key] : undefined;
    if (analysis === undefined) {
      misses.push(file);
      return;
    }
    hits[key] = analysis;
    findings.push(...analysis.findings);
    if (analysis.scanned) filesScanned++;
    linesScanned += analysis.lines;
    if (analysis.skipped) skipped.push({ path: file.path, reason: analysis.skipped });
  });
  await writeFindingsPart(input.scanId, { part: 'cached', findings, filesScanned, linesScanned, skipped, errors: [] });
  await writeScanCacheEntries(input.scanId, 'cached', hits);

  const planKey = keys.plan(input.scanId);
  await putJson(planKey, plan);
  const groups = shardFiles(misses, sharding);
  const shards: Shard[] = [];
  for (const [shardIndex, files] of groups.entries()) {
    const filesKey = keys.shard(input.scanId, shardIndex);
    shards.push({
      scanId: input.scanId,
      userId: input.userId,
      repositoryId: input.repositoryId,
      shardIndex,
      shardCount: groups.length,
      sourceKey: input.sourceKey,
      filesKey,
      fileCount: files.length,
    });
  }
  await Promise.all(groups.map((files, index) => putJson(keys.shard(input.scanId, index), files)));
  const filesCached = candidates.length - misses.length;
  await setScanFields(input.scanId, {
    filesTotal: candidates.length,
    filesCached,
    filesToAnalyze: misses.length,
    filesAnalyzed: 0,
    shardsTotal: groups.length,
    shardsDone: 0,
  });
  return { shards, filesTotal: candidates.length, filesCached, filesToAnalyze: misses.length, planKey };
}
