/**
 * Live progress of a scan: each step owns a range of the 0–100 scale, publishes `scan:progress` when it starts
 * and, through {@link withHeartbeat}, at least every few seconds while it runs, so the dashboard never waits
 * more than 5 s for news of a running scan. The percentage is also kept on the scan item.
 */
import { setScanFields } from '../db/scan-progress.ts';
import { publishToUser } from '../realtime/publish.ts';
import { logger } from '../runtime/powertools.ts';

export const STEP_RANGES = {
  fetchSource: [0, 10],
  planShards: [10, 15],
  analyzeShard: [15, 80],
  triage: [80, 88],
  persist: [88, 93],
  report: [93, 97],
  finish: [97, 100],
} as const satisfies Record<string, readonly [number, number]>;

export type PipelineStep = keyof typeof STEP_RANGES;

/** Publishes below the 5 s the real-time contract allows, leaving room for a slow post. */
export const HEARTBEAT_MS = 4000;

export interface ScanRef {
  readonly scanId: string;
  readonly userId: string;
  readonly repositoryId: string;
}

/** `fraction` (0–1) of `step` as a whole percentage of the scan. */
export function percentOf(step: PipelineStep, fraction = 0): number {
  const [from, to] = STEP_RANGES[step];
  return Math.round(from + (to - from) * Math.min(1, Math.max(0, fraction)));
}

/** Records and publishes one progress point; a failure to publish is logged, never fails the step. */
export async function publishProgress(scan: ScanRef, step: PipelineStep, percent: number, detail: Readonly<Record<string, unknown>> = {}): Promise<void> {
  try {
    await setScanFields(scan.scanId, { progressPercent: percent });
    await publishToUser(scan.userId, 'scan:progress', { scanId: scan.scanId, repositoryId: scan.repositoryId, progress: percent, step, ...detail });
  } catch (error) {
    logger.warn('Could not publish scan progress', { scanId: scan.scanId, step, error: error as Error });
  }
}

/**
 * Runs `work` with `scan:progress` published at its start and every {@link HEARTBEAT_MS} until it settles, the
 * percentage read from `fraction` each time (long synchronous work must yield now and then for the timer to run).
 */
export async function withHeartbeat<T>(scan: ScanRef, step: PipelineStep, fraction: () => number, work: () => Promise<T>, intervalMs = HEARTBEAT_MS): Promise<T> {
  await publishProgress(scan, step, percentOf(step, fraction()));
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(() => publishProgress(scan, step, percentOf(step, fraction())));
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await pending;
  }
}
