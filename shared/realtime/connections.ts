import { deleteItem, expiresIn, putItem, queryAll, type Item } from '../db/client.ts';

/** A live WebSocket connection of a user; TTL removes ones whose $disconnect never arrived. */
export interface Connection {
  readonly userId: string;
  readonly connectionId: string;
  readonly connectedAt: string;
}

/** API Gateway closes WebSocket connections after 2 hours at most. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

const keyOf = (userId: string, connectionId: string) => ({ pk: `USER#${userId}`, sk: `CONN#${connectionId}` });

/** Store a user's new connection (keyed under the user, indexed by connection id in gsi1). */
export async function saveConnection(userId: string, connectionId: string, now = new Date()): Promise<Connection> {
  const connection: Connection = { userId, connectionId, connectedAt: now.toISOString() };
  await putItem({
    ...keyOf(userId, connectionId),
    gsi1pk: `CONN#${connectionId}`,
    gsi1sk: `USER#${userId}`,
    entity: 'Connection',
    ...connection,
    expiresAt: expiresIn(CONNECTION_TTL_SECONDS, now.getTime()),
  });
  return connection;
}

/** All live connections of a user. */
export async function connectionsOfUser(userId: string): Promise<Item<Connection>[]> {
  return queryAll<Connection>({ pk: `USER#${userId}`, skBeginsWith: 'CONN#' });
}

/** Forget one connection of a user (410 Gone, or $disconnect). */
export async function deleteConnection(userId: string, connectionId: string): Promise<void> {
  await deleteItem(keyOf(userId, connectionId));
}

/** Forget a connection knowing only its id ($disconnect carries no user); returns whether one was stored. */
export async function deleteConnectionById(connectionId: string): Promise<boolean> {
  const owners = await queryAll<Connection>({ index: 'gsi1', pk: `CONN#${connectionId}` });
  await Promise.all(owners.map((item) => deleteItem({ pk: item.pk, sk: item.sk })));
  return owners.length > 0;
}
