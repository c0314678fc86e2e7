/**
 * The single table's physical shape, declared once for the CDK table construct and for the local stack's
 * CreateTable. Entities compose these generic keys (see docs/data-model.md).
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Expiring items (sessions, revoked tokens, rate-limit windows, connections, caches) set this, in epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

export interface IndexDecl {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Generic overloaded indexes, projected ALL. */
export const GLOBAL_INDEXES: readonly IndexDecl[] = [
  { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
];
