/**
 * Analysis results per file, so an unchanged file is never analysed twice. One snapshot per repository, ruleset
 * version and configuration hash lives in the bucket (`analysis-cache/<repositoryId>/<rulesetVersion>-<configHash>.json`),
 * holding each file's results keyed by `sha256(path):contentSha256` (fingerprints include the path, so the same
 * content at another path is another entry). The plan reads it with one request; a default-branch scan replaces
 * it with the results of its own files (the snapshot's hits plus what its shards analysed), so it never grows
 * beyond the repository's current files. One object per scan instead of one table item per file: a repository of
 * many thousands of files costs two requests, not thousands of writes.
 */
import { createHash } from 'node:crypto';
import type { SkipReason } from '../analysis/files.ts';
import type { ScanFinding } from './findings-store.ts';
import { getJson, listKeys, putJson, requireJson } from './storage.ts';

/** One file's analysis as the cache keeps it. */
export interface CachedAnalysis {
  /** Reportable and suppressed findings of the file. */
  readonly findings: ScanFinding[];
  readonly lines: number;
  readonly scanned: boolean;
  readonly skipped?: SkipReason;
}

export type CacheEntries = Record<string, CachedAnalysis>;

/** What a cache snapshot is valid for. */
export interface CacheScope {
  readonly rulesetVersion: string;
  readonly configHash: string;
}

interface Snapshot extends CacheScope {
  readonly entries: CacheEntries;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A file's entry key: its path and its content. */
export function cacheEntryKey(file: { readonly path: string; readonly sha256: string }): string {
  return `${sha256(file.path).slice(0, 32)}:${file.sha256}`;
}

export const snapshotKey = (repositoryId: string, scope: CacheScope) => `analysis-cache/${repositoryId}/${scope.rulesetVersion}-${scope.configHash}.json`;

const scanEntriesPrefix = (scanId: string) => `scans/${scanId}/cache/`;
const scanEntriesKey = (scanId: string, part: string) => `${scanEntriesPrefix(scanId)}${part}.json`;

/** The repository's cached results under a scope (empty when there are none yet). */
export async function readCacheSnapshot(repositoryId: string, scope: CacheScope): Promise<CacheEntries> {
  const snapshot = await getJson<Snapshot>(snapshotKey(repositoryId, scope));
  if (!snapshot || snapshot.rulesetVersion !== scope.rulesetVersion || snapshot.configHash !== scope.configHash) return {};
  return snapshot.entries;
}

/** Record a part of this scan's results for its files (the plan's hits, or one shard's analyses). */
export async function writeScanCacheEntries(scanId: string, part: string, entries: CacheEntries): Promise<void> {
  await putJson(scanEntriesKey(scanId, part), entries);
}

/** Replace the repository's snapshot with every entry this scan recorded; answers the number of files kept. */
export async function saveCacheSnapshot(scanId: string, repositoryId: string, scope: CacheScope): Promise<number> {
  const parts = await Promise.all((await listKeys(scanEntriesPrefix(scanId))).map((key) => requireJson<CacheEntries>(key)));
  const entries: CacheEntries = Object.assign({}, ...parts) as CacheEntries;
  await putJson(snapshotKey(repositoryId, scope), { ...scope, entries } satisfies Snapshot);
  return Object.keys(entries).length;
}
