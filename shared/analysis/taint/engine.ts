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

  /**
   * The per-file pre-check, text searches only: some sink name, and some source written out in full — its
   * method or field name together with a name of its receiver (or of a call whose result has the receiver's
   * type), a route decorator, a parameter annotation or a constant-check name.
   */
  mayFind(text: string): boolean {
    // The file's own imports are its context: `from os import environ` lets `environ` stand alone.
    return this.trigger.test(text) && this.mentionsSource(text, text);
  }

  /** Whether the text names a sink in full, like `mentionsSource`: `requests.get(`, not any `.get(`. */
  mentionsSink(text: string, context = ''): boolean {
    // One pass for any sink name first: most functions name none.
    if (!this.trigger.test(text)) return false;
    return triggersOf(this.spec).fileSinks.some((s) => writtenIn(s, text, context));
  }

  /** Whether the text names a source in full; receivers may also be named in `context` (the file's imports). */
  mentionsSource(text: string, context = ''): boolean {
    if (!this.sourceTrigger.test(text)) return false;
    return triggersOf(this.spec).fileSources.some((s) => writtenIn(s, text, context));
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
  /**
   * `keywords` maps keyword-argument names to their index in `args` (Python passes them after the positional
   * ones), so a sink's `keywords` are checked like its positions.
   */
  checkSinks(
    t: CallTarget,
    _recv: Val | undefined,
    args: readonly Val[],
    argNodes: readonly SgNode[],
    node: SgNode,
    view: AdapterView,
    applies?: (sink: SinkSpec) => boolean,
    keywords?: ReadonlyMap<string, number>,
  ): void {
    for (const sink of this.spec.sinks) {
      if (!matches(sink, t)) continue;
      if (sink.when && applies && !applies(sink)) continue;
      const origins = sink.origins ?? ['user'];
      const named = sink.args && sink.keywords && keywords ? sink.keywords.flatMap((k) => (keywords.has(k) ? [keywords.get(k)!] : [])) : [];
      const positions = sink.args ? [...sink.args, ...named] : args.map((_, i) => i);
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
    // Read from the tree only when a taint passes: most calls carry none.
    let step: FlowStep | undefined;
    let callee: string | undefined;
    const calleeOf = () => (callee ??= calleeName(node));
    const stepAt = (label: string): FlowStep => ({ ...(step ??= { ...view.loc(node), label: '' }), label });
    for (const hit of summary.sinks) {
      const arg = args[hit.param];
      if (!arg) continue;
      for (const a of flatten(arg)) {
        const sanitized = new Set([...a.sanitized, ...hit.sanitized]);
        const merged: Taint = { ...a, sanitized };
        if (isSafeFor(merged, hit.kind)) continue;
        const steps = [...a.steps, stepAt(`passed to ${calleeOf()}`), ...hit.steps.slice(1)];
        if (a.origin === 'param') view.current.sinks.push({ ...hit, param: a.param ?? 0, steps, sanitized });
        else if (hit.origins.includes(a.origin)) this.report(hit.kind, hit.location, hit.snippet, steps);
      }
    }
    const out: Taint[] = [];
    for (const r of flatten(summary.returns)) {
      if (r.origin !== 'param') {
        out.push(withStep(r, stepAt(`returned from ${calleeOf()}`)));
        continue;
      }
      const arg = args[r.param ?? -1];
      if (!arg) continue;
      for (const a of flatten(arg)) {
        out.push({ ...a, steps: [...a.steps, stepAt(`passed through ${calleeOf()}`)], sanitized: new Set([...a.sanitized, ...r.sanitized]) });
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

/** How a matcher's use is written in code, as the text pre-checks look for it. */
interface Written {
  /** Its method, function, constructor or field names. */
  readonly names: RegExp;
  /** When it needs a receiver: receivers known by type (a declared type, or a call whose result has it), as words. */
  readonly typed?: RegExp;
  /** Receivers known by name (modules, variables): written right before the name, `os.environ`, `req.query`. */
  readonly adjacent?: RegExp;
  /** Imports that bind a name-known receiver, or its members, under another name: then any use may be one. */
  readonly indirect?: RegExp;
}

/** Whether the text uses the matcher; `context` (the file's imports) may name a receiver known by type, or rebind one. */
function writtenIn(w: Written, text: string, context: string): boolean {
  if (!w.names.test(text)) return false;
  if (!w.typed && !w.adjacent) return true;
  if (w.typed?.test(text) || w.adjacent?.test(text)) return true;
  if (context === '') return false;
  return !!((context !== text && w.typed?.test(context)) || w.indirect?.test(context));
}

interface Triggers {
  readonly sinks: RegExp;
  readonly sources: RegExp;
  /** Per source: how it is written. */
  readonly fileSources: readonly Written[];
  /** The same per sink and constant check. */
  readonly fileSinks: readonly Written[];
}

const triggers = new WeakMap<TaintSpec, Triggers>();

function escape(words: Iterable<string>): string[] {
  return [...words].map((w) => w.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'));
}

/** A regular expression matching any of the names as a whole word; matches nothing when there are none. */
export function wordPattern(words: Iterable<string>): RegExp {
  const list = escape(words);
  return list.length ? new RegExp(`(?<![\\w$])(?:${list.join('|')})(?![\\w$])`) : /(?!)/;
}

/**
 * Names as the matchers can occur in code: methods, functions and constructors only as calls (`name(`, or
 * `Name<…>(` for generic constructors), since the adapters only match calls; fields as whole words.
 */
function usePattern(matchers: readonly CallMatcherSpec[]): RegExp {
  const calls = new Set<string>();
  const fields = new Set<string>();
  for (const m of matchers) {
    for (const w of [...(m.methods ?? []), ...(m.constructors ?? []), ...(m.functions ?? [])]) calls.add(w);
    for (const w of m.fields ?? []) fields.add(w);
  }
  const parts: string[] = [];
  if (calls.size) parts.push(`(?<![\\w$])(?:${escape(calls).join('|')})\\s*[(<]`);
  if (fields.size) parts.push(`(?<![\\w$])(?:${escape(fields).join('|')})(?![\\w$])`);
  return parts.length ? new RegExp(parts.join('|')) : /(?!)/;
}

/**
 * Calls the JavaScript and Python adapters resolve to a same-file function: a bare `name(`, or `this.name(` /
 * `self.name(` for methods; `obj.name(` is some other object's method. The name is the first group.
 */
export function ownCallPattern(names: Iterable<string>): RegExp {
  const list = escape(names);
  if (!list.length) return /(?!)/;
  const alt = list.join('|');
  return new RegExp(`(?:(?<![\\w$.])|(?<![\\w$])(?:this|self)\\s*\\.\\s*)(${alt})\\s*\\(`);
}

/** Calls of any of the named functions (`name(`); the name is the first group. */
export function callPattern(names: Iterable<string>): RegExp {
  const list = escape(names);
  return list.length ? new RegExp(`(?<![\\w$])(${list.join('|')})\\s*\\(`) : /(?!)/;
}

function triggersOf(spec: TaintSpec): Triggers {
  const hit = triggers.get(spec);
  if (hit) return hit;
  const checks = spec.constantChecks ?? [];
  const written = (m: CallMatcherSpec): Written => {
    const names = usePattern([m]);
    if (m.anyReceiver || m.functions || m.constructors || !m.receivers?.length) return { names };
    // A receiver the adapters resolve by name (lower-case: a module or variable) is written just before the member
    // (`os.environ`, `self.request.args`) unless an import binds it, or its members, under another name. One known
    // by type (capitalised) can be anywhere, or come from a call whose result has that type: a hint's method,
    // for a builtin only where it is called bare (`open(`, not `self.open(`).
    const typed = new Set<string>();
    const byName = new Set<string>();
    const builtins = new Set<string>();
    for (const r of m.receivers) {
      const last = r.slice(Math.max(r.lastIndexOf('.'), r.lastIndexOf('/')) + 1);
      (/^[a-z]/.test(r) ? byName : typed).add(last);
      for (const h of spec.types ?? []) if (h.returns === r) for (const x of h.methods) (h.receivers.includes('builtins') ? builtins : typed).add(x);
    }
    const typedWays = [...(typed.size ? [wordPattern(typed).source] : []), ...(builtins.size ? [`(?<![\\w$.])(?:${escape(builtins).join('|')})\\s*\\(`] : [])];
    const out: { -readonly [K in keyof Written]: Written[K] } = { names };
    if (typedWays.length) out.typed = new RegExp(typedWays.join('|'));
    if (byName.size) {
      const member = [
        ...(m.methods?.length ? [`(?:${escape(m.methods).join('|')})\\s*[(<]`] : []),
        ...(m.fields?.length ? [`(?:${escape(m.fields).join('|')})(?![\\w$])`] : []),
      ];
      out.adjacent = member.length ? new RegExp(`(?<![\\w$])(?:${escape(byName).join('|')})\\s*\\.\\s*(?:${member.join('|')})`) : /(?!)/;
      const full = escape(m.receivers.filter((r) => /^[a-z]/.test(r))).join('|');
      // Python `from os import environ` / `import os as o`, JavaScript `require('fs')` / `from 'fs'`, Go `o "os"`
      // (the quoted name first, so the search looks for it rather than trying every position).
      out.indirect = new RegExp(`\\bfrom\\s+(?:${full})\\b|(?<![\\w$.])(?:${full})\\s+as\\b|(?:require\\(\\s*|from\\s+)['"\`](?:node:)?(?:${full})['"\`]|"(?:${full})"(?<=\\S\\s+"(?:${full})")`);
    }
    return out;
  };
  const fileSources = spec.sources.map(written);
  const fileSinks = [...spec.sinks, ...checks].map(written);
  if (checks.length) fileSources.push({ names: usePattern(checks) });
  const annotations = (spec.parameterAnnotations ?? []).flatMap((a) => a.names);
  if (annotations.length) fileSources.push({ names: wordPattern(annotations) });
  const decorators = spec.routeDecorators?.methods;
  if (decorators?.length) fileSources.push({ names: new RegExp(`@[\\w.]+\\.(?:${decorators.join('|')})\\s*\\(`) });
  const sources = new RegExp(fileSources.map((f) => f.names.source).join('|') || '(?!)');
  const t: Triggers = { sinks: usePattern([...spec.sinks, ...checks]), sources, fileSources, fileSinks };
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
export function selectEntryPoints(
  engine: TaintEngine,
  functions: readonly { readonly name: string; readonly text: string }[],
  taintedNames: readonly string[] = [],
  namesSource: (text: string) => boolean = (text) => engine.sourceTrigger.test(text),
  calls: (names: Iterable<string>) => RegExp = callPattern,
  namesSink: (text: string) => boolean = (text) => engine.trigger.test(text),
): boolean[] {
  const tainted = taintedNames.length ? wordPattern(taintedNames) : undefined;
  const src = functions.map((f) => namesSource(f.text) || (tainted?.test(f.text) ?? false));
  const snk = functions.map((f) => namesSink(f.text));
  const callers = callGraph(functions, calls);
  reachThroughCalls(functions, src, callers);
  reachThroughCalls(functions, snk, callers);
  return functions.map((_, i) => (src[i] ?? false) && (snk[i] ?? false));
}

/**
 * For each function name, the functions whose text calls it, found in one pass over each text: summaries apply
 * to direct calls only, so only a call can reach another function's source or sink.
 */
export function callGraph(functions: readonly { readonly name: string; readonly text: string }[], calls: (names: Iterable<string>) => RegExp): Map<string, number[]> {
  const callers = new Map<string, number[]>();
  const names = new Set(functions.map((f) => f.name).filter((n) => n !== ''));
  if (!names.size) return callers;
  const re = new RegExp(calls(names).source, 'g');
  functions.forEach((f, i) => {
    const called = new Set<string>();
    for (const m of f.text.matchAll(re)) if (m[1]) called.add(m[1]);
    for (const name of called) {
      const list = callers.get(name);
      if (list) list.push(i);
      else callers.set(name, [i]);
    }
  });
  return callers;
}

/** Flags every function that calls a flagged one, directly or through others. */
export function reachThroughCalls(functions: readonly { readonly name: string }[], flags: boolean[], callers: ReadonlyMap<string, readonly number[]>): void {
  const queue = functions.flatMap((_, i) => (flags[i] ? [i] : []));
  while (queue.length > 0) {
    const name = functions[queue.pop()!]!.name;
    for (const caller of (name && callers.get(name)) || []) {
      if (flags[caller]) continue;
      flags[caller] = true;
      queue.push(caller);
    }
  }
}
