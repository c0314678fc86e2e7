/**
 * Model results cached by what they depend on: sha256 of the content sent (redacted), the prompt's id and
 * version, and the model. An unchanged finding in an unchanged file is never sent twice within the TTL.
 */
import { createHash } from 'node:crypto';
import { expiresIn, getItem, putItem } from './client.ts';

export interface ModelCacheKeyParts {
  readonly content: string;
  readonly promptId: string;
  readonly promptVersion: number;
  readonly modelId: string;
}

/** Hex sha256 of the parts, each length-prefixed so no two different tuples collide by concatenation. */
export function modelCacheKey(parts: ModelCacheKeyParts): string {
  const hash = createHash('sha256');
  for (const part of [parts.promptId, String(parts.promptVersion), parts.modelId, parts.content]) {
    hash.update(`${Buffer.byteLength(part)}:`).update(part);
  }
  return hash.digest('hex');
}

export interface CachedModelResult {
  readonly hash: string;
  /** The validated answer, as the prompt's schema produced it; callers validate it again on read. */
  readonly value: unknown;
  readonly promptId: string;
  readonly promptVersion: number;
  readonly modelId: string;
  readonly createdAt: string;
}

const keyOf = (hash: string) => ({ pk: `MODELCACHE#${hash}`, sk: 'RESULT' });

/** A cached model result by its key, or undefined when absent or expired. */
export async function getCachedModelResult(hash: string): Promise<CachedModelResult | undefined> {
  const item = await getItem<CachedModelResult>(keyOf(hash));
  if (!item) return undefined;
  return { hash: item.hash, value: item.value, promptId: item.promptId, promptVersion: item.promptVersion, modelId: item.modelId, createdAt: item.createdAt };
}

/** Stores a validated model result for `ttlSeconds`. */
export async function putCachedModelResult(entry: Omit<CachedModelResult, 'createdAt'>, ttlSeconds: number): Promise<void> {
  await putItem({
    ...keyOf(entry.hash),
    ...entry,
    createdAt: new Date().toISOString(),
    entity: 'ModelCache',
    expiresAt: expiresIn(ttlSeconds),
  });
}
