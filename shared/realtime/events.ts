/** Every event the WebSocket feed carries (SPEC §5). */
export const REALTIME_EVENTS = [
  'scan:started',
  'scan:progress',
  'vulnerability:found',
  'scan:completed',
  'scan:failed',
  'fix:applied',
  'pr:merged',
  'pr:closed',
] as const;
export type RealtimeEventName = (typeof REALTIME_EVENTS)[number];

/** The envelope of every message pushed to a client. */
export interface RealtimeEnvelope<D = unknown> {
  readonly event: RealtimeEventName;
  /** ISO-8601 UTC. */
  readonly timestamp: string;
  readonly data: D;
}

export function envelope<D>(event: RealtimeEventName, data: D, now = new Date()): RealtimeEnvelope<D> {
  return { event, timestamp: now.toISOString(), data };
}
