/**
 * Abstract values of the taint engine: which taints a value carries, its compile-time constant when known,
 * and for containers (lists, maps, arrays, string builders) the contents, so reads can be precise about which
 * element or key they take. Containers are shared by reference, so aliases see each other's writes.
 */
import type { FlowStep } from '../types.ts';
import type { Origin } from './spec.ts';

export type Const = string | number | boolean | null;

export interface Taint {
  /** `param` marks a function parameter while summarising that function. */
  readonly origin: Origin | 'param';
  readonly param?: number;
  readonly steps: readonly FlowStep[];
  /** Sink kinds (or `all`) this data has been made safe for. */
  readonly sanitized: ReadonlySet<string>;
}

export interface Container {
  readonly kind: 'list' | 'map' | 'array' | 'builder';
  /** List and array elements by index. */
  elems: Val[];
  /** Map entries by constant key. */
  readonly keys: Map<string, Val>;
  /** Everything not tracked precisely: entries under unknown keys or indexes, builder contents. */
  rest: Val;
}

export interface Val {
  readonly taints: readonly Taint[];
  readonly c?: Const;
  /** The constant is a default that configuration may override: fine for reporting, not for pruning code. */
  readonly assumed?: boolean;
  readonly box?: Container;
  /** Simple type name when known, for matching receivers. */
  readonly type?: string;
}

export const CLEAN: Val = { taints: [] };
const MAX_TAINTS = 6;

export function constant(c: Const, type?: string): Val {
  return type ? { taints: [], c, type } : { taints: [], c };
}

function taintKey(t: Taint): string {
  return `${t.origin}:${t.param ?? ''}:${[...t.sanitized].sort().join(',')}`;
}

export function unionTaints(...lists: (readonly Taint[])[]): Taint[] {
  const out: Taint[] = [];
  if (lists.every((l) => l.length === 0)) return out;
  const seen = new Set<string>();
  for (const list of lists) {
    for (const t of list) {
      const k = taintKey(t);
      if (seen.has(k) || out.length >= MAX_TAINTS) continue;
      seen.add(k);
      out.push(t);
    }
  }
  return out;
}

/** Every taint a value carries, including what its container holds. */
export function flatten(v: Val, depth = 0): readonly Taint[] {
  if (!v.box || depth > 3) return v.taints;
  const b = v.box;
  return unionTaints(v.taints, ...b.elems.map((e) => flatten(e, depth + 1)), ...[...b.keys.values()].map((e) => flatten(e, depth + 1)), flatten(b.rest, depth + 1));
}

export function join(a: Val, b: Val): Val {
  if (a === b) return a;
  const taints = unionTaints(a.taints, b.taints);
  const sameConst = a.c !== undefined && a.c === b.c;
  const type = a.type === b.type ? a.type : (a.type ?? b.type);
  if (a.box && a.box === b.box) return { taints, box: a.box, ...(type ? { type } : {}), ...(sameConst ? { c: a.c } : {}) };
  if (a.box || b.box) {
    return { taints: unionTaints(taints, flatten(a), flatten(b)), ...(a.box ? { box: a.box } : b.box ? { box: b.box } : {}), ...(type ? { type } : {}) };
  }
  const out: Val = { taints, ...(type ? { type } : {}), ...(sameConst ? { c: a.c, ...(a.assumed || b.assumed ? { assumed: true } : {}) } : {}) };
  return out;
}

/** A value derived from others (concatenation, conversion): their taints, plus a step on each. */
export function derive(parts: readonly Val[], step?: FlowStep, type?: string): Val {
  // Most values are clean: no taint sets to build.
  if (parts.every((p) => p.taints.length === 0 && !p.box)) return type ? { taints: [], type } : CLEAN;
  const taints = unionTaints(...parts.map((p) => flatten(p)));
  const stepped = step ? taints.map((t) => withStep(t, step)) : taints;
  return type ? { taints: stepped, type } : { taints: stepped };
}

const MAX_STEPS = 12;
export function withStep(t: Taint, step: FlowStep): Taint {
  const last = t.steps[t.steps.length - 1];
  if (last && last.startLine === step.startLine && last.startColumn === step.startColumn) return t;
  const steps = t.steps.length >= MAX_STEPS ? [...t.steps.slice(0, 2), ...t.steps.slice(-(MAX_STEPS - 3)), step] : [...t.steps, step];
  return { ...t, steps };
}

export function sanitize(v: Val, kinds: readonly string[]): Val {
  const taints = flatten(v).map((t) => (t.origin === 'weak-random' ? t : { ...t, sanitized: new Set([...t.sanitized, ...kinds]) }));
  return { taints: unionTaints(taints) };
}

export function newContainer(kind: Container['kind'], elems: Val[] = []): Container {
  return { kind, elems, keys: new Map(), rest: CLEAN };
}

export function isSafeFor(t: Taint, kind: string): boolean {
  return t.sanitized.has(kind) || (t.sanitized.has('all') && kind !== 'trust-boundary');
}

/** What is known at one program point: each variable's value, and whether the point is reachable. */
export interface State {
  vars: Map<string, Val>;
  dead: boolean;
  /** Set by `break`; cleared by the enclosing loop or switch. */
  broke: boolean;
}

/** A copy of the state to analyse one branch in. */
export function fork(s: State): State {
  return { vars: new Map(s.vars), dead: s.dead, broke: false };
}

/** The state after two branches meet: unreachable branches drop out, values join. */
export function joined(a: State, b: State): State {
  if (a.dead && !b.dead) return fork(b);
  if (b.dead && !a.dead) return fork(a);
  const vars = new Map(a.vars);
  for (const [k, v] of b.vars) {
    const o = vars.get(k);
    vars.set(k, o ? join(o, v) : v);
  }
  return { vars, dead: a.dead && b.dead, broke: false };
}

/** Whether a value carries nothing a walk can act on: no taint, constant, type or container. */
export function isPlain(v: Val): boolean {
  return v.taints.length === 0 && v.c === undefined && v.box === undefined && v.type === undefined;
}

const containerIds = new WeakMap<Container, number>();
let nextContainerId = 0;

function valueSignature(v: Val, depth: number): string {
  if (isPlain(v)) return '';
  let out = v.taints.map(taintKey).join('|');
  if (v.c !== undefined) out += `=${typeof v.c}:${String(v.c)}${v.assumed ? '?' : ''}`;
  if (v.type !== undefined) out += `:${v.type}`;
  const b = v.box;
  if (b) {
    let id = containerIds.get(b);
    if (id === undefined) containerIds.set(b, (id = nextContainerId++));
    out += `#${id}`;
    if (depth < 3) {
      const inner = (e: Val) => valueSignature(e, depth + 1);
      out += `[${b.elems.map(inner).join(',')};${[...b.keys].map(([k, e]) => `${k}>${inner(e)}`).join(',')};${inner(b.rest)}]`;
    }
  }
  return out;
}

/**
 * Everything a walk can observe of the named variables: taints (as joins tell them apart), constants, types and
 * containers' contents. Two states with the same signature walk a loop body alike.
 */
export function stateSignature(s: State, include: (name: string, v: Val) => boolean): string {
  let out = '';
  for (const [k, v] of s.vars) if (include(k, v)) out += `${k}\0${valueSignature(v, 0)}\n`;
  return out;
}

/** {@link joined}, written into `target`. */
export function merge(target: State, a: State, b: State): void {
  const j = joined(a, b);
  target.vars = j.vars;
  target.dead = j.dead;
}

/** Folds a binary operation on two compile-time constants; undefined when it does not fold. */
export function foldBinary(op: string, a: Val, b: Val): Const | undefined {
  const x = a.c;
  const y = b.c;
  if (x === undefined || y === undefined) return undefined;
  switch (op) {
    case '+':
      if (typeof x === 'number' && typeof y === 'number') return x + y;
      if (typeof x === 'string' || typeof y === 'string') return `${x}${y}`;
      return undefined;
    case '-':
      return typeof x === 'number' && typeof y === 'number' ? x - y : undefined;
    case '*':
      return typeof x === 'number' && typeof y === 'number' ? x * y : undefined;
    case '/':
      if (typeof x !== 'number' || typeof y !== 'number' || y === 0) return undefined;
      return Number.isInteger(x) && Number.isInteger(y) && a.type !== 'double' && b.type !== 'double' ? Math.trunc(x / y) : x / y;
    case '%':
      return typeof x === 'number' && typeof y === 'number' && y !== 0 ? x % y : undefined;
    case '>':
      return typeof x === 'number' && typeof y === 'number' ? x > y : undefined;
    case '<':
      return typeof x === 'number' && typeof y === 'number' ? x < y : undefined;
    case '>=':
      return typeof x === 'number' && typeof y === 'number' ? x >= y : undefined;
    case '<=':
      return typeof x === 'number' && typeof y === 'number' ? x <= y : undefined;
    case '==':
      return typeof x === 'string' && typeof y === 'string' ? undefined : x === y;
    case '!=':
      return typeof x === 'string' && typeof y === 'string' ? undefined : x !== y;
    case '&&':
      return typeof x === 'boolean' && typeof y === 'boolean' ? x && y : undefined;
    case '||':
      return typeof x === 'boolean' && typeof y === 'boolean' ? x || y : undefined;
    default:
      return undefined;
  }
}
