import { randomUUID } from 'node:crypto';
import { expiresIn, putItem } from './client.ts';
import { queryCount, queryFilled } from './bulk.ts';

/** Activity events are kept for 180 days. */
export const ACTIVITY_TTL_SECONDS = 180 * 24 * 3600;
export const ACTIVITY_LIST_SIZE = 50;

export const ACTIVITY_TYPES = [
  'repository_connected',
  'repository_deleted',
  'repository_settings_changed',
  'scan_queued',
  'scan_completed',
  'scan_failed',
  'vulnerability_status_changed',
  'fix_pr_created',
] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

export interface ActivityInput {
  readonly type: ActivityType;
  readonly message: string;
  readonly repositoryId?: string;
  readonly scanId?: string;
  readonly vulnerabilityId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface ActivityEvent extends ActivityInput {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: string;
}

const activityPk = (userId: string) => `USER#${userId}#ACTIVITY`;

/** Record one event in a user's activity feed (`USER#<uid>#ACTIVITY` / `<createdAt>#<eventId>`, TTL 180 days). */
export async function recordActivity(userId: string, input: ActivityInput, now = new Date()): Promise<ActivityEvent> {
  const event: ActivityEvent = { ...input, id: randomUUID(), userId, createdAt: now.toISOString() };
  await putItem({ pk: activityPk(userId), sk: `${event.createdAt}#${event.id}`, ...event, entity: 'Activity', expiresAt: expiresIn(ACTIVITY_TTL_SECONDS, now.getTime()) });
  return event;
}

/** What a feed entry shows: all a feed page reads. */
export const ACTIVITY_LIST_ATTRIBUTES = ['id', 'type', 'message', 'repositoryId', 'scanId', 'vulnerabilityId', 'data', 'createdAt'] as const satisfies readonly (keyof ActivityEvent)[];
export type ActivityEntry = Pick<ActivityEvent, (typeof ACTIVITY_LIST_ATTRIBUTES)[number]>;

/** The latest events of a user, newest first, only the attributes a feed entry shows. */
export async function listActivity(userId: string, limit = ACTIVITY_LIST_SIZE, cursor?: string) {
  return queryFilled<ActivityEntry>({ pk: activityPk(userId), descending: true, limit, cursor, attributes: ACTIVITY_LIST_ATTRIBUTES });
}

/** How many events of `type` a user had since `since` (ISO-8601). */
export async function countActivitySince(userId: string, type: ActivityType, since: string): Promise<number> {
  return queryCount({
    pk: activityPk(userId),
    skBetween: [since, '\uffff'],
    filter: { expression: '#type = :type', names: { '#type': 'type' }, values: { ':type': type } },
  });
}
