import { PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { websocketManagement } from '../runtime/clients.ts';
import { logger } from '../runtime/powertools.ts';
import { connectionsOfUser, deleteConnection } from './connections.ts';
import { envelope, type RealtimeEventName } from './events.ts';

/** Connections posted to at once per publish. */
export const PUBLISH_CONCURRENCY = 10;

export interface PublishResult {
  readonly delivered: number;
  /** Stale connections (410 Gone) that were deleted. */
  readonly removed: number;
  readonly failed: number;
}

function isGone(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function forEachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Sends `{ event, timestamp, data }` to every connection of the user, in parallel with a bound. A gone
 * connection is deleted; other failures are logged and counted, never thrown, so a publish never fails a job.
 */
export async function publishToUser<D>(userId: string, event: RealtimeEventName, data: D): Promise<PublishResult> {
  const connections = await connectionsOfUser(userId);
  if (connections.length === 0) return { delivered: 0, removed: 0, failed: 0 };
  const payload = new TextEncoder().encode(JSON.stringify(envelope(event, data)));
  const client = websocketManagement();
  let delivered = 0;
  let removed = 0;
  let failed = 0;
  await forEachBounded(connections, PUBLISH_CONCURRENCY, async ({ connectionId }) => {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }));
      delivered++;
    } catch (error) {
      if (isGone(error)) {
        removed++;
        await deleteConnection(userId, connectionId).catch((cause: unknown) =>
          logger.warn('Could not delete a gone connection', { connectionId, error: cause as Error }),
        );
      } else {
        failed++;
        logger.warn('Could not post to a connection', { connectionId, event, error: error as Error });
      }
    }
  });
  return { delivered, removed, failed };
}
