import { getItem, putItem } from './client.ts';

/** A revoked JWT, kept until the token would have expired anyway (then TTL removes it). */
export interface RevokedToken {
  readonly jti: string;
  readonly userId: string;
  readonly revokedAt: string;
}

const keyOf = (jti: string) => ({ pk: `TOKEN#${jti}`, sk: 'REVOKED' });

/** Revoke a token by its `jti` until `expiresAtEpochSeconds` (the token's own `exp`). */
export async function revokeToken(jti: string, userId: string, expiresAtEpochSeconds: number): Promise<void> {
  const item: RevokedToken = { jti, userId, revokedAt: new Date().toISOString() };
  await putItem({ ...keyOf(jti), ...item, entity: 'RevokedToken', expiresAt: expiresAtEpochSeconds });
}

/** Is this `jti` revoked? Strongly consistent, so a logout takes effect on the very next request. */
export async function isTokenRevoked(jti: string): Promise<boolean> {
  return (await getItem<RevokedToken>(keyOf(jti), { consistent: true })) !== undefined;
}
