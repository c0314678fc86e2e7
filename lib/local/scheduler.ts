import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import type { ScheduleDecl } from '../../shared/platform/declarations.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './config.ts';
import type { HandlerRuntime } from './handlers.ts';

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Expands one EventBridge cron field (`*`, `?`, `5`, `1-5`, `*\/6`, `0/15`, `MON,WED`) to its values. */
export function parseCronField(field: string, min: number, max: number, names: readonly string[] = []): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = names.indexOf(token.toUpperCase());
    // EventBridge numbers days of the week 1 (SUN) to 7 (SAT).
    const n = named >= 0 ? named + min : Number(token);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`Invalid cron value "${token}" (allowed ${min}-${max})`);
    return n;
  };
  for (const part of field.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`Invalid cron step in "${part}"`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') [from, to] = [min, max];
    else if (range.includes('-')) [from, to] = range.split('-').map(value) as [number, number];
    else [from, to] = [value(range), stepText === undefined ? value(range) : max];
    if (from > to) throw new Error(`Invalid cron range "${range}"`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** The first whole minute strictly after `from` (UTC) matching the schedule's cron fields. */
export function nextFireTime(cron: ScheduleDecl['cron'], from: Date): Date {
  const minutes = parseCronField(cron.minute, 0, 59);
  const hours = parseCronField(cron.hour, 0, 23);
  const days = parseCronField(cron.weekDay ?? '?', 1, 7, DAY_NAMES);
  const t = new Date(from.getTime());
  t.setUTCSeconds(0, 0);
  for (let i = 0; i < 8 * 24 * 60; i++) {
    t.setUTCMinutes(t.getUTCMinutes() + 1);
    if (minutes.has(t.getUTCMinutes()) && hours.has(t.getUTCHours()) && days.has(t.getUTCDay() + 1)) return t;
  }
  throw new Error(`Cron ${JSON.stringify(cron)} never fires`);
}

export interface SchedulerOptions {
  readonly schedules: readonly ScheduleDecl[];
  readonly runtime: HandlerRuntime;
  /** Clock, replaceable in tests. */
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/** Invokes each schedule's handler with an EventBridge scheduled event at its next UTC fire time, repeatedly. */
export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
    for (const schedule of options.schedules) nextFireTime(schedule.cron, new Date());
  }

  start(): void {
    this.running = true;
    for (const schedule of this.options.schedules) this.arm(schedule);
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Next fire time of every schedule, for the start-up banner. */
  upcoming(): { name: string; at: Date }[] {
    return this.options.schedules.map((s) => ({ name: s.name, at: nextFireTime(s.cron, this.now()) }));
  }

  private arm(schedule: ScheduleDecl, after?: Date): void {
    if (!this.running) return;
    const now = this.now();
    // A timer may wake a millisecond early: never fire the same minute twice.
    const at = nextFireTime(schedule.cron, after && after > now ? after : now);
    const timer = setTimeout(() => {
      void this.fire(schedule, at).finally(() => this.arm(schedule, at));
    }, Math.max(0, at.getTime() - now.getTime()));
    timer.unref();
    this.timers.set(schedule.name, timer);
  }

  private async fire(schedule: ScheduleDecl, at: Date): Promise<void> {
    const event: EventBridgeEvent<'Scheduled Event', Record<string, never>> = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL_ACCOUNT,
      time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${schedule.name}`],
      detail: {},
    };
    this.log(`schedule ${schedule.name} fired`);
    try {
      await this.options.runtime.invoke(schedule.entry, event, { timeoutSeconds: schedule.timeoutSeconds ?? 300, memoryMb: schedule.memoryMb });
    } catch (error) {
      this.log(`schedule ${schedule.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
