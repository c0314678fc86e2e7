import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { batchPut } from './bulk.ts';
import { documentClient, expiresIn, isExpired, tableName, type ItemKey } from './client.ts';
import { TTL_ATTRIBUTE } from './table-definition.ts';

// Analysis results per file, so an unchanged file is never analysed twice. The key is the file's path and content
// hash under one ruleset version and configuration hash (fingerprints include the path, so the same content at
// another path is another entry): `ACACHE#<rulesetVersion>#<configHash>#<sha256(path)>#<contentSha256>` / `ACACHE`.

/** Entries live 30 days after their last write; a changed ruleset or configuration starts new keys anyway. */
export const ANALYSIS_CACHE_TTL_SECONDS = 30 * 24 * 3600;
/** Results above this size are not cached (DynamoDB items stop at 400 KB); such files are analysed each time. */
export const MAX_CACHED_RESULT_BYTES = 300 * 1024;
const BATCH_GET_SIZE = 100;
const MAX_ATTEMPTS = 8;

/** The cache identity of one file's analysis. */
export interface AnalysisCacheKey {
  readonly rulesetVersion: string;
  readonly configHash: string;
  readonly pathHash: string;
  readonly contentSha256: string;
}

const cacheKey = (k: AnalysisCacheKey): ItemKey => ({
  pk: `ACACHE#${k.rulesetVersion}#${k.configHash}#${k.pathHash}#${k.contentSha256}`,
  sk: 'ACACHE',
});

/** Looks up many files' cached results at once (BatchGet, 100 keys per request); answers by input index. */
export async function getCachedAnalyses(entries: readonly AnalysisCacheKey[]): Promise<Map<number, string>> {
  const table = tableName();
  const byPk = new Map<string, number[]>();
  entries.forEach((entry, index) => {
    const { pk } = cacheKey(entry);
    byPk.set(pk, [...(byPk.get(pk) ?? []), index]);
  });
  const found = new Map<number, string>();
  const pks = [...byPk.keys()];
  for (let i = 0; i < pks.length; i += BATCH_GET_SIZE) {
    let pending: Record<string, string>[] = pks.slice(i, i + BATCH_GET_SIZE).map((pk) => ({ pk, sk: 'ACACHE' }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`${pending.length} cache reads were still unprocessed after ${attempt} attempts`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const answer = await documentClient.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const item of answer.Responses?.[table] ?? []) {
        if (isExpired(item) || typeof item.result !== 'string') continue;
        for (const index of byPk.get(item.pk as string) ?? []) found.set(index, item.result);
      }
      pending = (answer.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, string>[];
    }
  }
  return found;
}

/** Stores analyses (serialized results) by their keys; results over {@link MAX_CACHED_RESULT_BYTES} are left out. */
export async function putCachedAnalyses(entries: readonly { key: AnalysisCacheKey; result: string }[], now = Date.now()): Promise<number> {
  const items = entries
    .filter((e) => Buffer.byteLength(e.result, 'utf8') <= MAX_CACHED_RESULT_BYTES)
    .map((e) => ({ ...cacheKey(e.key), entity: 'AnalysisCacheEntry', result: e.result, [TTL_ATTRIBUTE]: expiresIn(ANALYSIS_CACHE_TTL_SECONDS, now) }));
  // One item per key within a batch: BatchWrite refuses duplicates.
  const unique = [...new Map(items.map((item) => [item.pk, item])).values()];
  await batchPut(unique);
  return unique.length;
}
