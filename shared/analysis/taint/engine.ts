/**
 * The language-independent half of the taint engine: matching calls against the spec (sources, sinks,
 * sanitizers, type hints, constant checks), applying function summaries at call sites and turning flows that
 * reach sinks into findings. Language adapters walk the syntax and call into this.
 */
import type { SgNode } from '@ast-grep/napi';
import type { FlowStep, Location, RawFinding } from '../types.ts';
import type { CallMatcherSpec, KindSpec, Origin, SanitizerSpec, SinkSpec, TaintSpec } from './spec.ts';
import { CLEAN, type Taint, type Val, derive, flatten, isSafeFor, sanitize, unionTaints, withStep } from './values.ts';

export interface SinkHit {
  readonly param: number;
  readonly kind: string;
  readonly origins: readonly Origin[];
  readonly location: Location;
  readonly snippet: string;
  /** Parameter → … → sink. */
  readonly steps: readonly FlowStep[];
  readonly sanitized: ReadonlySet<string>;
}

export interface Summary {
  /** The joined return value; taints of origin `param` say which parameters reach it. */
  returns: Val;
  readonly sinks: SinkHit[];
}

export interface CallTarget {
  readonly method?: string;
  readonly receiverType?: string | undefined;
  readonly constructorType?: string;
  /** An attribute read or write (`req.query`, `el.innerHTML = …`) instead of a call. */
  readonly field?: string;
}

/** What an adapter exposes to the engine. */
export interface AdapterView {
  loc(node: SgNode): Location;
  readonly current: Summary;
}

export function matches(m: CallMatcherSpec, t: CallTarget): boolean {
  if (t.constructorType !== undefined) return m.constructors?.includes(t.constructorType) ?? false;
  if (t.field !== undefined) {
    if (!m.fields?.includes(t.field)) return false;
  } else {
    if (!t.method) return false;
    // A call without a receiver: a builtin or an imported function called directly.
    if (t.receiverType === undefined && m.functions?.includes(t.method)) return true;
    if (!m.methods?.includes(t.method)) return false;
  }
  if (m.anyReceiver) return true;
  return t.receiverType !== undefined && (m.receivers?.includes(t.receiverType) ?? false);
}

const SNIPPET_MAX = 200;

export class TaintEngine {
  readonly findings: RawFinding[] = [];
  private readonly seen = new Set<string>();
  private readonly clean: Set<string>;

  constructor(
    readonly spec: TaintSpec,
    readonly path: string,
  ) {
    this.clean = new Set(spec.cleanMethods ?? []);
    const t = triggersOf(spec);
    this.trigger = t.sinks;
    this.sourceTrigger = t.sources;
  }

  /** Sink and check names: a file or method whose text names none of them cannot produce a finding by itself. */
  readonly trigger: RegExp;
  /**
   * Source, annotation, route-decorator and constant-check names: every way a finding can start. A file that
   * names none of them, or no sink, cannot produce a finding.
   */
  readonly sourceTrigger: RegExp;

  /** The per-file pre-check: only text searches, no syntax tree. */
  mayFind(text: string): boolean {
    return this.trigger.test(text) && this.sourceTrigger.test(text);
  }

  isClean(method: string): boolean {
    return this.clean.has(method);
  }

  annotationSource(annotations: readonly string[]): string | undefined {
    for (const a of this.spec.parameterAnnotations ?? []) if (annotations.some((n) => a.names.includes(n))) return a.label;
    return undefined;
  }

  source(t: CallTarget, node: SgNode, view: AdapterView): Val | undefined {
    const s = this.spec.sources.find((m) => matches(m, t));
    if (!s) return undefined;
    const text = node.text();
    const label = `${s.label}: ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
    const taint: Taint = { origin: s.origin ?? 'user', steps: [{ ...view.loc(node), label }], sanitized: new Set() };
    return { taints: [taint] };
  }

  sanitizer(t: CallTarget): SanitizerSpec | undefined {
    return this.spec.sanitizers.find((m) => matches(m, t));
  }

  sanitized(args: readonly Val[], recv: Val | undefined, s: SanitizerSpec): Val {
    const input = derive(args.length ? args : recv ? [recv] : []);
    return sanitize(input, s.kinds);
  }

  returnType(t: CallTarget): string | undefined {
    return this.spec.types?.find((h) => t.method !== undefined && h.methods.includes(t.method) && t.receiverType !== undefined && h.receivers.includes(t.receiverType))?.returns;
  }

  /** Reports tainted arguments of a sink call, or records them in the summary when they come from a parameter. */
  checkSinks(t: CallTarget, _recv: Val | undefined, args: readonly Val[], argNodes: readonly SgNode[], node: SgNode, view: AdapterView, applies?: (sink: SinkSpec) => boolean): void {
    for (const sink of this.spec.sinks) {
      if (!matches(sink, t)) continue;
      if (sink.when && applies && !applies(sink)) continue;
      const origins = sink.origins ?? ['user'];
      const positions = sink.args ?? args.map((_, i) => i);
      for (const i of positions) {
        const arg = args[i];
        if (!arg) continue;
        for (const taint of flatten(arg)) {
          if (isSafeFor(taint, sink.kind)) continue;
          const what = t.field !== undefined ? `${t.field} (assigned)` : (t.method ?? `new ${t.constructorType}`);
          const sinkStep: FlowStep = { ...view.loc(node), label: `reaches ${what}${argNodes[i] && t.field === undefined ? ` as ${ordinal(i)} argument` : ''}` };
          if (taint.origin === 'param') {
            view.current.sinks.push({ param: taint.param ?? 0, kind: sink.kind, origins, location: view.loc(node), snippet: node.text(), steps: [...taint.steps, sinkStep], sanitized: taint.sanitized });
          } else if (origins.includes(taint.origin)) {
            this.report(sink.kind, view.loc(node), node.text(), [...taint.steps, sinkStep]);
          }
        }
      }
    }
  }

  checkConstant(t: CallTarget, args: readonly Val[], argNodes: readonly SgNode[], node: SgNode, view: AdapterView): void {
    for (const check of this.spec.constantChecks ?? []) {
      if (!matches(check, t)) continue;
      const v = args[check.arg];
      const argNode = argNodes[check.arg];
      // Literal arguments are the structural rule pack's job; this covers names held in variables and settings.
      if (!v || typeof v.c !== 'string' || !argNode || argNode.kind() === 'string_literal') continue;
      if (!new RegExp(check.pattern, 'i').test(v.c)) continue;
      this.report(check.kind, view.loc(node), node.text(), [{ ...view.loc(argNode), label: `algorithm resolves to "${v.c}"` }, { ...view.loc(node), label: `used by ${t.method}` }]);
    }
  }

  /** The value of a call to a summarised function: parameter flows replaced by the caller's arguments. */
  applySummary(summary: Summary, args: readonly Val[], node: SgNode, view: AdapterView): Val {
    const callStep: FlowStep = { ...view.loc(node), label: `passed through ${calleeName(node)}` };
    for (const hit of summary.sinks) {
      const arg = args[hit.param];
      if (!arg) continue;
      for (const a of flatten(arg)) {
        const sanitized = new Set([...a.sanitized, ...hit.sanitized]);
        const merged: Taint = { ...a, sanitized };
        if (isSafeFor(merged, hit.kind)) continue;
        const steps = [...a.steps, { ...callStep, label: `passed to ${calleeName(node)}` }, ...hit.steps.slice(1)];
        if (a.origin === 'param') view.current.sinks.push({ ...hit, param: a.param ?? 0, steps, sanitized });
        else if (hit.origins.includes(a.origin)) this.report(hit.kind, hit.location, hit.snippet, steps);
      }
    }
    const out: Taint[] = [];
    for (const r of flatten(summary.returns)) {
      if (r.origin !== 'param') {
        out.push(withStep(r, { ...callStep, label: `returned from ${calleeName(node)}` }));
        continue;
      }
      const arg = args[r.param ?? -1];
      if (!arg) continue;
      for (const a of flatten(arg)) {
        out.push({ ...a, steps: [...a.steps, callStep], sanitized: new Set([...a.sanitized, ...r.sanitized]) });
      }
    }
    const c = summary.returns.c;
    return { taints: unionTaints(out), ...(c !== undefined && !summary.returns.assumed ? { c } : {}), ...(summary.returns.type ? { type: summary.returns.type } : {}) };
  }

  report(kind: string, location: Location, snippet: string, steps: readonly FlowStep[]): void {
    const k: KindSpec | undefined = this.spec.kinds[kind] as KindSpec | undefined;
    if (!k) return;
    const key = `${k.ruleId}:${location.startLine}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.findings.push({
      ruleId: k.ruleId,
      kind: 'taint',
      type: k.type,
      message: k.message,
      severity: k.severity,
      confidence: k.confidence,
      cwe: k.cwe,
      owasp: k.owasp,
      cvss: k.cvss,
      ...(k.references ? { references: k.references } : {}),
      location,
      snippet: snippet.length > SNIPPET_MAX ? `${snippet.slice(0, SNIPPET_MAX - 3)}...` : snippet,
      dataflow: steps,
    });
  }
}

interface Triggers {
  readonly sinks: RegExp;
  readonly sources: RegExp;
}

const triggers = new WeakMap<TaintSpec, Triggers>();

function wordsOf(matchers: readonly CallMatcherSpec[]): Set<string> {
  const words = new Set<string>();
  for (const m of matchers) for (const w of [...(m.methods ?? []), ...(m.constructors ?? []), ...(m.functions ?? []), ...(m.fields ?? [])]) words.add(w);
  return words;
}

/** A regular expression matching any of the names as a whole word; matches nothing when there are none. */
export function wordPattern(words: Iterable<string>): RegExp {
  const list = [...words].map((w) => w.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'));
  return list.length ? new RegExp(`(?<![\\w$])(?:${list.join('|')})(?![\\w$])`) : /(?!)/;
}

function triggersOf(spec: TaintSpec): Triggers {
  const hit = triggers.get(spec);
  if (hit) return hit;
  const checks = spec.constantChecks ?? [];
  const sources = wordsOf([...spec.sources, ...checks]);
  for (const a of spec.parameterAnnotations ?? []) for (const n of a.names) sources.add(n);
  for (const n of spec.routeDecorators?.methods ?? []) sources.add(n);
  const t: Triggers = { sinks: wordPattern(wordsOf([...spec.sinks, ...checks])), sources: wordPattern(sources) };
  triggers.set(spec, t);
  return t;
}

function calleeName(node: SgNode): string {
  return node.field('name')?.text() ?? node.text().slice(0, 40);
}

function ordinal(i: number): string {
  return ['first', 'second', 'third', 'fourth', 'fifth'][i] ?? `#${i + 1}`;
}

export { CLEAN };

/**
 * Which functions to analyse as entry points: those that can reach both a source (they name one, a tainted
 * module-level name, or a same-file function that can) and a sink (likewise). The others are summarised only
 * when an analysed function calls them. Text searches only: no syntax is walked for the rest.
 */
export function selectEntryPoints(engine: TaintEngine, functions: readonly { readonly name: string; readonly text: string }[], taintedNames: readonly string[] = []): boolean[] {
  const tainted = taintedNames.length ? wordPattern(taintedNames) : undefined;
  const src = functions.map((f) => engine.sourceTrigger.test(f.text) || (tainted?.test(f.text) ?? false));
  const snk = functions.map((f) => engine.trigger.test(f.text));
  reachThroughCalls(functions, src);
  reachThroughCalls(functions, snk);
  return functions.map((_, i) => (src[i] ?? false) && (snk[i] ?? false));
}

function reachThroughCalls(functions: readonly { readonly name: string; readonly text: string }[], flags: boolean[]): void {
  for (let changed = true; changed; ) {
    changed = false;
    const names = new Set(functions.filter((f, i) => flags[i] && f.name).map((f) => f.name));
    if (!names.size) return;
    const re = wordPattern(names);
    for (let i = 0; i < functions.length; i++) {
      if (flags[i] || !re.test(functions[i]!.text)) continue;
      flags[i] = true;
      changed = true;
    }
  }
}
