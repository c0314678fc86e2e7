import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { UnauthorizedError } from '../http/errors.ts';
import { deleteItem, expiresIn, getItem, queryAll, transactWrite, updateItem } from './client.ts';

/** Refresh tokens live 30 days; each use replaces the token with a new one of the same family (session). */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

interface RefreshRecord {
  readonly userId: string;
  readonly familyId: string;
  readonly createdAt: string;
}

interface FamilyRecord {
  readonly userId: string;
  readonly revokedAt?: string;
}

/** Only the SHA-256 of a token is stored: a leaked table does not leak usable tokens. */
const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const tokenKey = (hash: string) => ({ pk: `REFRESH#${hash}`, sk: 'REFRESH' });
/** What is left of a token once used, so that a second use is recognised as theft. */
const rotatedKey = (hash: string) => ({ pk: `REFRESH#${hash}`, sk: 'ROTATED' });
const familyKey = (familyId: string) => ({ pk: `REFRESHFAMILY#${familyId}`, sk: 'FAMILY' });
const familyIndex = (userId: string) => `USER#${userId}#REFRESH`;

export interface IssuedRefreshToken {
  readonly refreshToken: string;
  readonly familyId: string;
}

function newTokenItem(userId: string, familyId: string, now: number) {
  const refreshToken = randomBytes(32).toString('base64url');
  const record: RefreshRecord = { userId, familyId, createdAt: new Date(now).toISOString() };
  const item = {
    ...tokenKey(hashOf(refreshToken)),
    ...record,
    gsi1pk: familyIndex(userId),
    gsi1sk: familyId,
    entity: 'RefreshToken',
    expiresAt: expiresIn(REFRESH_TOKEN_TTL_SECONDS, now),
  };
  return { refreshToken, item };
}

/** Start a session at login: a new family and its first token, written together. */
export async function issueRefreshToken(userId: string, now = Date.now()): Promise<IssuedRefreshToken> {
  const familyId = randomUUID();
  const { refreshToken, item } = newTokenItem(userId, familyId, now);
  await transactWrite([
    { Put: { Item: { ...familyKey(familyId), userId, entity: 'RefreshFamily', expiresAt: item.expiresAt }, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Put: { Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
  ]);
  return { refreshToken, familyId };
}

const invalid = () => new UnauthorizedError('The refresh token is not valid', { code: 'INVALID_REFRESH_TOKEN' });

/**
 * Use a refresh token: in one transaction the token is deleted (condition: it still exists), a tombstone of it is
 * written, the family is checked unrevoked and extended, and the new token is put. Presenting a token that was
 * already rotated (a stolen copy, or the thief's after the owner's) revokes the whole family.
 */
export async function rotateRefreshToken(refreshToken: string, now = Date.now()): Promise<IssuedRefreshToken & { userId: string }> {
  const hash = hashOf(refreshToken);
  const current = await getItem<RefreshRecord>(tokenKey(hash), { consistent: true });
  if (!current) {
    const rotated = await getItem<RefreshRecord>(rotatedKey(hash), { consistent: true });
    if (rotated) {
      await revokeRefreshFamily(rotated.userId, rotated.familyId);
      throw new UnauthorizedError('The refresh token was already used; the session has been revoked', { reason: 'REFRESH_TOKEN_REUSED' });
    }
    throw invalid();
  }
  const { userId, familyId } = current;
  const next = newTokenItem(userId, familyId, now);
  try {
    await transactWrite([
      { Delete: { Key: tokenKey(hash), ConditionExpression: 'attribute_exists(pk)' } },
      { Put: { Item: { ...rotatedKey(hash), userId, familyId, entity: 'RotatedRefreshToken', rotatedAt: new Date(now).toISOString(), expiresAt: current.expiresAt } } },
      {
        Update: {
          Key: familyKey(familyId),
          UpdateExpression: 'SET expiresAt = :exp',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':exp': next.item.expiresAt },
        },
      },
      { Put: { Item: next.item, ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
  } catch (error) {
    if (error instanceof Error && error.name === 'TransactionCanceledException') {
      // Lost a race with another use of the same token, or the session was revoked meanwhile.
      await revokeRefreshFamily(userId, familyId);
      throw invalid();
    }
    throw error;
  }
  return { refreshToken: next.refreshToken, familyId, userId };
}

/**
 * End a session: the family is marked revoked (no token of it can rotate again) and its live tokens are deleted
 * (found through gsi1 `USER#<uid>#REFRESH` / `<familyId>`). A family of another user is left alone.
 */
export async function revokeRefreshFamily(userId: string, familyId: string): Promise<void> {
  const family = await getItem<FamilyRecord>(familyKey(familyId), { consistent: true });
  if (!family || family.userId !== userId) return;
  if (!family.revokedAt) await updateItem(familyKey(familyId), { revokedAt: new Date().toISOString() }, { ifExists: true });
  const live = await queryAll<RefreshRecord>({ index: 'gsi1', pk: familyIndex(userId), skBeginsWith: familyId }, 100);
  await Promise.all(live.filter((item) => item.familyId === familyId).map((item) => deleteItem(item)));
}
