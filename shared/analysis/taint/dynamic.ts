/**
 * The taint adapter for JavaScript/TypeScript, Python and Go. The three tree-sitter grammars share most shapes
 * (`if_statement` with condition/consequence/alternative, calls with function/arguments, binary expressions
 * with left/operator/right), so one walker covers them with a few per-language cases. Receivers are matched by
 * type where the language declares one (Go, annotated parameters), else by the dotted name of the receiver with
 * imports resolved (`sp.call` after `import subprocess as sp` is `subprocess.call`). Nested functions passed as
 * callbacks are analysed in place, so closures see the variables of the function around them.
 */
import type { Rule, SgNode } from '@ast-grep/napi';
import type { FlowStep, Location } from '../types.ts';
import { type AdapterView, type CallTarget, type Summary, type TaintEngine, callGraph, callPattern, matches, ownCallPattern, reachThroughCalls, wordPattern } from './engine.ts';
import type { GuardSpec, SinkSpec } from './spec.ts';
import { CLEAN, type Const, type State, type Taint, type Val, constant, derive, flatten, foldBinary, fork, isPlain, join, joined, merge, newContainer, sanitize, stateSignature, withStep } from './values.ts';

type Node = SgNode;
export type DynamicLanguage = 'javascript' | 'python' | 'go';

interface Ctx {
  readonly returns: Val[];
  /** Module-level statements, where large ones that cannot matter are skipped. */
  readonly module?: boolean;
  /**
   * A function walked only for the flows it reports (an entry point, or a callback in place): no statement of
   * its body after the last sink or same-file call in it can report one, and nothing reads what they leave.
   */
  readonly reportsOnly?: { readonly body: Node; readonly lastSite: number };
}

/** Module-level statements longer than this are analysed only if they name a source, a sink or tainted data. */
const LARGE_STATEMENT = 400;

const FUNCTION_KINDS: Record<DynamicLanguage, readonly string[]> = {
  javascript: ['function_declaration', 'generator_function_declaration', 'method_definition', 'arrow_function', 'function_expression'],
  python: ['function_definition'],
  go: ['function_declaration', 'method_declaration', 'func_literal'],
};
/** Nodes that bind imported names: Python and JavaScript imports, Go import specs, and JavaScript declarators (for `require`). */
const IMPORT_KINDS: Record<DynamicLanguage, readonly string[]> = {
  javascript: ['import_statement', 'variable_declarator'],
  python: ['import_statement', 'import_from_statement'],
  go: ['import_spec'],
};
const STATEMENT_LISTS = new Set(['statement_block', 'block', 'statement_list', 'program', 'module', 'else_clause', 'finally_clause', 'class_body', 'expression_statement']);
const PUNCTUATION = new Set(['(', ')', ',', '[', ']', '{', '}', '...', '*', '**']);
/** The object and key (property or index) fields of member and subscript expressions, by node kind. */
const ACCESS: Readonly<Record<string, { readonly object: string; readonly key: string; readonly member: boolean }>> = {
  member_expression: { object: 'object', key: 'property', member: true },
  attribute: { object: 'object', key: 'attribute', member: true },
  selector_expression: { object: 'operand', key: 'field', member: true },
  subscript_expression: { object: 'object', key: 'index', member: false },
  subscript: { object: 'value', key: 'subscript', member: false },
  index_expression: { object: 'operand', key: 'index', member: false },
};

/** A field of a node by a name known only at run time. */
function fieldOf(node: Node, name: string): Node | null {
  return node.field(name as Parameters<Node['field']>[0]) as Node | null;
}

/** A Python comparison's operands and operator tokens: it has no fields, so they are its plain children. */
function comparisonParts(node: Node): { operands: Node[]; operators: Node[] } {
  const operands: Node[] = [];
  const operators: Node[] = [];
  for (const c of node.children()) (c.isNamed() ? operands : operators).push(c);
  return { operands, operators };
}

/** Parents of declarations that are not nested in another function or block. */
const TOP_LEVEL = new Set(['program', 'module', 'source_file']);
const SHELLS = /^(?:\/(?:usr\/)?bin\/)?(?:sh|bash|zsh|dash|ksh|cmd(?:\.exe)?|powershell(?:\.exe)?)$/;

/** The simple name of a declared type: `*http.Request` → `Request`, `Optional[str]` → `Optional`. */
function simpleType(text: string): string {
  const base = text.replace(/^[*&[\]\s]+/, '').replace(/[[<].*$/s, '');
  return base.slice(base.lastIndexOf('.') + 1);
}

function unquote(text: string, lang: DynamicLanguage): string {
  if (lang === 'python') {
    const q = text.match(/^[a-zA-Z]*("""|'''|"|')/);
    const quote = q?.[1] ?? '"';
    return text.slice((q?.[0].length ?? 1), text.length - quote.length);
  }
  return text.slice(1, -1).replace(/\\(.)/g, (_m, e: string) => ({ n: '\n', t: '\t', r: '\r' })[e] ?? e);
}

/** Start offsets of every match of the patterns in the text, sorted. */
function sitesOf(text: string, patterns: readonly RegExp[]): number[] {
  const sites: number[] = [];
  for (const p of patterns) for (const m of text.matchAll(new RegExp(p.source, 'g'))) sites.push(m.index);
  return sites.sort((a, b) => a - b);
}

/** Index of the first of sorted offsets at or after `offset` (the length when there is none). */
function firstSiteFrom(sites: readonly number[], offset: number): number {
  let lo = 0;
  let hi = sites.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sites[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a sorted list of offsets has one in [start, end). */
function hasSiteIn(sites: readonly number[], start: number, end: number): boolean {
  const i = firstSiteFrom(sites, start);
  return i < sites.length && sites[i]! < end;
}

export class DynamicAnalysis implements AdapterView {
  current: Summary = { returns: CLEAN, sinks: [] };
  private readonly imports = new Map<string, string>();
  private readonly importTexts: string[] = [];
  /** Where the file names a sink or calls one of its own functions, as sorted start offsets. */
  private sinkSites: readonly number[] = [];
  /** Python functions by id, with the decorated definition around them. */
  private readonly decorated = new Map<number, Node>();
  private readonly functions = new Map<string, Node[]>();
  private readonly globals = new Map<string, Val>();
  private readonly summaries = new Map<number, Summary>();
  /** Functions (by id) that name a source or call one that does, directly or through others. */
  private readonly producers = new Set<number>();
  private readonly inProgress = new Set<number>();
  /** Functions already analysed where they were defined (callbacks at module level). */
  private readonly inPlace = new Set<number>();
  /** Set just before module-level code evaluates a call whose result it drops. */
  private resultUnused = false;
  /** Names read before any assignment in the state, while a loop's first pass is walked. */
  private unassignedReads: Set<string> | undefined;
  private readonly receiverNames: Set<string>;
  private readonly guards: readonly GuardSpec[];

  constructor(
    private readonly engine: TaintEngine,
    private readonly root: Node,
    private readonly lang: DynamicLanguage,
    private readonly source: string,
  ) {
    const names = new Set<string>();
    const spec = engine.spec;
    for (const m of [...spec.sources, ...spec.sinks, ...spec.sanitizers, ...(spec.guards ?? []), ...(spec.types ?? [])]) for (const r of m.receivers ?? []) names.add(r);
    this.receiverNames = names;
    this.guards = spec.guards ?? [];
  }

  run(): void {
    // One walk of the tree finds the imports, the functions not nested in another and Python's decorators.
    const functionKinds: readonly string[] = FUNCTION_KINDS[this.lang];
    const anyFunction = functionKinds.map((kind) => ({ kind }));
    const wanted: Rule[] = [...IMPORT_KINDS[this.lang].map((kind) => ({ kind })), { any: anyFunction, not: { inside: { any: anyFunction, stopBy: 'end' } } }];
    if (this.lang === 'python' && this.source.includes('@')) wanted.push({ kind: 'decorated_definition' });
    const decls: Node[] = [];
    for (const n of this.root.findAll({ rule: { any: wanted } })) {
      const k = n.kind() as string;
      if (functionKinds.includes(k)) decls.push(n);
      else if (k === 'decorated_definition') {
        const def = n.field('definition');
        if (def) this.decorated.set(def.id(), n);
      } else this.collectImport(n, k);
    }
    const named = decls.map((d) => ({ node: d, name: this.functionName(d) }));
    for (const { node, name } of named) {
      if (!name) continue;
      const list = this.functions.get(name) ?? [];
      list.push(node);
      this.functions.set(name, list);
    }
    const calls = this.lang === 'go' ? callPattern : ownCallPattern;
    this.sinkSites = sitesOf(this.source, [this.engine.trigger, calls(this.functions.keys())]);
    // A Python route's decorator names its source (`@app.get(...)`), so it is part of the function's text here.
    const texts = named.map(({ node, name }) => ({ name: name ?? '', text: (this.decorated.get(node.id()) ?? node).text() }));
    const callers = callGraph(texts, calls);
    // A source is named in full inside the function, its receiver possibly through an import.
    const context = this.importTexts.join('\n');
    // Functions that name a source or call one that does: the only ones that can return tainted data unasked.
    const src = texts.map((f) => this.engine.mentionsSource(f.text, context));
    const markProducers = () => {
      reachThroughCalls(texts, src, callers);
      named.forEach(({ node }, i) => {
        if (src[i]) this.producers.add(node.id());
      });
    };
    markProducers();
    // Module-level statements: constants, configuration and top-level code (scripts, route registration).
    const state: State = { vars: new Map(), dead: false, broke: false };
    this.block(this.root, state, { returns: [], module: true });
    for (const [k, v] of state.vars) this.globals.set(k, v);
    // Entry points: functions that can reach both a source (named, a tainted module-level name, or through a
    // call) and a sink; the others are summarised only when an analysed call passes them tainted data.
    const tainted = [...this.globals].filter(([, v]) => flatten(v).some((t) => t.origin !== 'param')).map(([k]) => k);
    if (tainted.length) {
      const mentions = wordPattern(tainted);
      // Summaries made while module-level code was walked saw none of its values: those of functions that read a
      // tainted one, and of their callers, are made again.
      const stale = texts.map((f) => mentions.test(f.text));
      texts.forEach((_, i) => {
        if (stale[i]) src[i] = true;
      });
      reachThroughCalls(texts, stale, callers);
      named.forEach(({ node }, i) => {
        if (stale[i]) this.summaries.delete(node.id());
      });
      markProducers();
    }
    const snk = texts.map((f) => this.engine.mentionsSink(f.text, context));
    reachThroughCalls(texts, snk, callers);
    named.forEach(({ node, name }, i) => {
      // A function's own definition reads as a call of its name: only other callers count.
      if (src[i] && snk[i] && !this.inPlace.has(node.id())) this.summarise(node, undefined, !callers.get(name ?? '')?.some((c) => c !== i));
    });
  }

  /** Offset of the last sink or same-file call inside a function; -1 when it has none. */
  private lastSiteIn(fn: Node): number {
    const { start, end } = fn.range();
    const last = this.sinkSites[firstSiteFrom(this.sinkSites, end.index) - 1];
    return last !== undefined && last >= start.index ? last : -1;
  }

  /** A nested function is worth analysing in place if it names a sink or calls a function of this file. */
  private mayReachSink(node: Node): boolean {
    const { start, end } = node.range();
    return hasSiteIn(this.sinkSites, start.index, end.index);
  }

  loc(node: Node): Location {
    const r = node.range();
    return { path: this.engine.path, startLine: r.start.line + 1, startColumn: r.start.column + 1, endLine: r.end.line + 1, endColumn: r.end.column };
  }

  private step(node: Node, label: string): FlowStep {
    return { ...this.loc(node), label };
  }

  // ---- declarations ----

  /** Records what an import (or a JavaScript `require`) binds. */
  private collectImport(n: Node, k: string): void {
    if (k !== 'variable_declarator') this.importTexts.push(n.text());
    if (this.lang === 'go') {
      const path = n.field('path')?.text().slice(1, -1) ?? '';
      const alias = n.field('name')?.text();
      this.imports.set(alias ?? path.slice(path.lastIndexOf('/') + 1), path);
    } else if (this.lang === 'python') {
      const module = k === 'import_from_statement' ? (n.field('module_name')?.text() ?? '') : '';
      for (const c of n.children()) {
        if (c === n.field('module_name') || (c.kind() !== 'dotted_name' && c.kind() !== 'aliased_import')) continue;
        if (module && c.text() === module && c.range().start.index === n.field('module_name')?.range().start.index) continue;
        const full = c.kind() === 'aliased_import' ? (c.field('name')?.text() ?? '') : c.text();
        const local = c.kind() === 'aliased_import' ? (c.field('alias')?.text() ?? full) : module ? full : full.split('.')[0]!;
        const target = module ? `${module}.${full}` : c.kind() === 'aliased_import' ? full : full.split('.')[0]!;
        this.imports.set(local, target);
      }
    } else if (k === 'import_statement') {
      const module = n.field('source')?.text().slice(1, -1).replace(/^node:/, '') ?? '';
      const clause = n.children().find((c) => c.kind() === 'import_clause');
      for (const c of clause?.children() ?? []) {
        if (c.kind() === 'identifier') this.imports.set(c.text(), module);
        else if (c.kind() === 'namespace_import') {
          const id = c.children().find((x) => x.kind() === 'identifier');
          if (id) this.imports.set(id.text(), module);
        } else if (c.kind() === 'named_imports') {
          for (const s of c.children()) {
            if (s.kind() !== 'import_specifier') continue;
            const name = s.field('name')?.text() ?? '';
            this.imports.set(s.field('alias')?.text() ?? name, `${module}.${name}`);
          }
        }
      }
    } else {
      // `const x = require('m')`, `const { a, b: c } = require('m')`, `const e = require('m').exec`.
      const value = n.field('value');
      const module = value ? this.requiredModule(value) : undefined;
      const name = n.field('name');
      if (!module || !name) return;
      this.importTexts.push(n.text());
      if (name.kind() === 'identifier') this.imports.set(name.text(), module);
      else if (name.kind() === 'object_pattern') {
        for (const p of name.children()) {
          if (p.kind() === 'shorthand_property_identifier_pattern') this.imports.set(p.text(), `${module}.${p.text()}`);
          else if (p.kind() === 'pair_pattern') {
            const v = p.field('value');
            if (v?.kind() === 'identifier') this.imports.set(v.text(), `${module}.${p.field('key')?.text() ?? ''}`);
          }
        }
      }
    }
  }

  private requiredModule(node: Node): string | undefined {
    if (node.kind() === 'call_expression' && node.field('function')?.text() === 'require') {
      const arg = node.field('arguments')?.children().find((c) => c.kind() === 'string');
      return arg ? arg.text().slice(1, -1).replace(/^node:/, '') : undefined;
    }
    if (node.kind() === 'member_expression') {
      const obj = node.field('object');
      const base = obj ? this.requiredModule(obj) : undefined;
      return base ? `${base}.${node.field('property')?.text() ?? ''}` : undefined;
    }
    return undefined;
  }

  private functionName(node: Node): string | undefined {
    const name = node.field('name')?.text();
    if (name) return name;
    // `const f = (…) => …` and `f = function (…) {…}`.
    const parent = node.parent();
    if (parent?.kind() === 'variable_declarator') return parent.field('name')?.text();
    if (parent?.kind() === 'pair') return parent.field('key')?.text();
    return undefined;
  }

  private params(fn: Node): { name: string; node: Node; type?: string; hasDefaultCall: boolean; pattern?: Node }[] {
    const list = fn.field('parameters') ?? fn.field('parameter');
    if (!list) return [];
    const items = list.kind() === 'identifier' ? [list] : list.namedChildren().filter((c) => c.kind() !== 'comment');
    const out: { name: string; node: Node; type?: string; hasDefaultCall: boolean; pattern?: Node }[] = [];
    for (const p of items) {
      const k = p.kind();
      if (this.lang === 'go') {
        const type = simpleType(p.field('type')?.text() ?? '');
        const names = p.children().filter((c) => c.kind() === 'identifier');
        for (const n of names.length ? names : [p]) out.push({ name: names.length ? n.text() : '_', node: n, type, hasDefaultCall: false });
        continue;
      }
      if (k === 'identifier') {
        out.push({ name: p.text(), node: p, hasDefaultCall: false });
        continue;
      }
      const inner = p.field('pattern') ?? p.field('name') ?? p.field('left') ?? p.children().find((c) => c.kind() === 'identifier');
      const typeNode = p.field('type');
      const type = typeNode ? simpleType(typeNode.text().replace(/^:\s*/, '')) : undefined;
      const def = p.field('value') ?? p.field('right');
      const hasDefaultCall = def?.kind() === 'call';
      if (inner && (inner.kind() === 'object_pattern' || inner.kind() === 'array_pattern')) out.push({ name: '', node: p, hasDefaultCall, pattern: inner });
      else if (k === 'object_pattern' || k === 'array_pattern') out.push({ name: '', node: p, hasDefaultCall, pattern: p });
      else out.push({ name: inner?.text() ?? p.text(), node: p, ...(type ? { type } : {}), hasDefaultCall });
    }
    return out;
  }

  /** Whether a Python function's decorator registers it as a route whose parameters come from the request. */
  private routeDecorated(fn: Node): string | undefined {
    const rd = this.engine.spec.routeDecorators;
    const parent = this.decorated.get(fn.id());
    if (!rd || !parent) return undefined;
    for (const d of parent.children()) {
      if (d.kind() !== 'decorator') continue;
      const m = d.text().match(/\.(\w+)\s*\(/);
      if (m && rd.methods.includes(m[1]!)) return rd.label;
    }
    return undefined;
  }

  /**
   * Walks a function: in place (a callback, seeing the variables around it), as a callee (its parameters marked,
   * for the summary call sites apply), or as a root: an entry point no function of the file calls, walked only
   * for the flows it reports itself, so what its parameters reach need not be followed into its callees.
   */
  private summarise(fn: Node, outer?: State, asRoot = false): Summary {
    const id = fn.id();
    const done = this.summaries.get(id);
    if (done && !outer) return done;
    const summary: Summary = { returns: CLEAN, sinks: [] };
    if (this.inProgress.has(id)) return summary;
    this.inProgress.add(id);
    if (outer) this.inPlace.add(id);
    const state: State = { vars: outer ? new Map(outer.vars) : new Map(), dead: false, broke: false };
    const route = this.routeDecorated(fn);
    const except = new Set(this.engine.spec.routeDecorators?.exceptTypes ?? []);
    let index = 0;
    const params = this.params(fn);
    const isMethod = this.lang === 'python' && (params[0]?.name === 'self' || params[0]?.name === 'cls');
    for (const [i, p] of params.entries()) {
      if (isMethod && i === 0) {
        state.vars.set(p.name, CLEAN);
        continue;
      }
      const loc = this.loc(p.node);
      // In place (a callback), parameters come from the framework, not from the function around it.
      const taints: Taint[] = outer || asRoot ? [] : [{ origin: 'param' as const, param: index, steps: [{ ...loc, label: `parameter ${p.name || p.node.text()}` }], sanitized: new Set<string>() }];
      if (route && !p.hasDefaultCall && !(p.type && except.has(p.type))) taints.push({ origin: 'user', steps: [{ ...loc, label: `${route} ${p.name}` }], sanitized: new Set<string>() });
      const v: Val = { taints, ...(p.type ? { type: p.type } : {}) };
      if (p.pattern) this.bind(p.pattern, v, state, p.node);
      else state.vars.set(p.name, v);
      index++;
    }
    const returns: Val[] = [];
    const body = fn.field('body');
    const saved = this.current;
    this.current = outer ? saved : summary;
    if (body) {
      const bodyKind = body.kind() as string;
      if (bodyKind === 'statement_block' || bodyKind === 'block') {
        const reportsOnly = outer || asRoot ? { body, lastSite: this.lastSiteIn(fn) } : undefined;
        this.block(body, state, { returns, ...(reportsOnly ? { reportsOnly } : {}) });
      } else returns.push(this.expr(body, state, bodyKind));
    }
    this.current = saved;
    summary.returns = returns.reduce((a, b) => join(a, b), CLEAN);
    this.inProgress.delete(id);
    if (!outer && !asRoot) this.summaries.set(id, summary);
    return summary;
  }

  // ---- statements ----

  private block(node: Node, state: State, ctx: Ctx): void {
    for (const s of node.namedChildren()) {
      if (state.dead || state.broke) return;
      if (ctx.module && node === this.root && !this.matters(s, state)) continue;
      if (ctx.reportsOnly?.body === node && s.range().start.index > ctx.reportsOnly.lastSite) return;
      this.stmt(s, state, ctx);
    }
  }

  /**
   * Whether a module-level statement can matter: short ones always (constants, flags); large ones (data tables,
   * long strings) only if they name a source, a sink, a function of this file or a tainted variable, since
   * otherwise everything they define is clean.
   */
  private matters(s: Node, state: State): boolean {
    const r = s.range();
    if (r.end.index - r.start.index < LARGE_STATEMENT) return true;
    const text = s.text();
    if (this.engine.sourceTrigger.test(text) || hasSiteIn(this.sinkSites, r.start.index, r.end.index)) return true;
    const tainted = [...state.vars].filter(([, v]) => flatten(v).length > 0).map(([k]) => k);
    return tainted.length > 0 && wordPattern(tainted).test(text);
  }

  private stmt(node: Node, state: State, ctx: Ctx): void {
    const kind = node.kind() as string;
    if (kind === 'expression_statement' && ctx.module) {
      for (const c of node.namedChildren()) {
        const k = c.kind() as string;
        this.resultUnused = k === 'call' || k === 'call_expression';
        this.expr(c, state, k);
      }
      return;
    }
    if (STATEMENT_LISTS.has(kind)) {
      this.block(node, state, ctx);
      return;
    }
    switch (kind) {
      case 'lexical_declaration':
      case 'variable_declaration':
      case 'var_declaration':
      case 'const_declaration':
        for (const d of node.children()) {
          if (d.kind() === 'variable_declarator') this.declarator(d, state);
          else if (d.kind() === 'var_spec' || d.kind() === 'const_spec') this.goSpec(d, state);
          else if (d.kind() === 'var_spec_list') for (const s of d.children()) if (s.kind() === 'var_spec') this.goSpec(s, state);
        }
        return;
      case 'short_var_declaration':
      case 'assignment_statement':
      case 'assignment':
      case 'augmented_assignment':
        this.assignment(node, state, kind);
        return;
      case 'if_statement':
        this.ifStatement(node, state, ctx);
        return;
      case 'while_statement':
      case 'for_statement':
      case 'for_in_statement':
      case 'do_statement':
        this.loop(node, state, ctx);
        return;
      case 'try_statement':
        this.tryStatement(node, state, ctx);
        return;
      case 'with_statement':
        for (const item of node.findAll({ rule: { kind: 'with_item' } })) {
          const v = item.field('value');
          if (v?.kind() === 'as_pattern') {
            const value = v.children()[0];
            const target = v.field('alias') ?? v.children().find((c) => c.kind() === 'as_pattern_target');
            const val = value ? this.expr(value, state) : CLEAN;
            const id = target?.children().find((c) => c.kind() === 'identifier') ?? target;
            if (id) state.vars.set(id.text(), val);
          } else if (v) this.expr(v, state);
        }
        for (const c of node.children()) if (c.kind() === 'block') this.block(c, state, ctx);
        return;
      case 'return_statement': {
        const values = node.namedChildren();
        const e = values[0];
        if (e) ctx.returns.push(this.expr(e, state));
        state.dead = true;
        return;
      }
      case 'throw_statement':
      case 'raise_statement':
        for (const c of node.namedChildren()) this.expr(c, state);
        state.dead = true;
        return;
      case 'break_statement':
      case 'continue_statement':
        state.broke = true;
        return;
      case 'switch_statement':
      case 'expression_switch_statement':
      case 'match_statement':
        this.branches(node, state, ctx);
        return;
      case 'function_declaration':
      case 'generator_function_declaration':
      case 'function_definition':
      case 'decorated_definition':
        // A nested declaration closes over the variables around it.
        if (node !== this.root && !TOP_LEVEL.has((node.parent()?.kind() as string | undefined) ?? '')) {
          const fn = kind === 'decorated_definition' ? node.field('definition') : node;
          if (fn && this.mayReachSink(fn)) this.summarise(fn, state);
        }
        return;
      case 'class_declaration':
      case 'class_definition':
      case 'import_statement':
      case 'import_from_statement':
      case 'import_declaration':
      case 'method_declaration':
      case 'type_declaration':
      case 'package_clause':
      case 'comment':
        return;
      case 'defer_statement':
      case 'go_statement':
      case 'labeled_statement':
        for (const c of node.namedChildren()) this.stmt(c, state, ctx);
        return;
      case 'string':
        // A bare string statement (a docstring) has no effect.
        return;
      default:
        this.expr(node, state, kind);
    }
  }

  private declarator(d: Node, state: State): void {
    const name = d.field('name');
    const value = d.field('value');
    if (!name) return;
    const v = value ? this.expr(value, state) : CLEAN;
    this.bind(name, v, state, d);
  }

  private goSpec(d: Node, state: State): void {
    const names = d.fieldChildren('name');
    const type = d.field('type');
    const values = d.field('value');
    const v = values ? this.exprList(values, state) : CLEAN;
    const t = type ? simpleType(type.text()) : undefined;
    names.forEach((n, i) => {
      const one = names.length > 1 && v.box?.kind === 'array' ? (v.box.elems[i] ?? CLEAN) : v;
      this.setVar(n.text(), t && !one.type ? { ...one, type: t } : one, d, state);
    });
  }

  private setVar(name: string, v: Val, at: Node, state: State): void {
    if (v.taints.length === 0) state.vars.set(name, v);
    else state.vars.set(name, { ...v, taints: v.taints.map((t) => withStep(t, this.step(at, `assigned to ${name}`))) });
  }

  /** Assigns a value to a target: a name, a tuple or list of targets, or a JS destructuring pattern. */
  private bind(target: Node, v: Val, state: State, at: Node, k = target.kind() as string): void {
    switch (k) {
      case 'identifier':
      case 'shorthand_property_identifier_pattern':
        this.setVar(target.text(), v, at, state);
        return;
      case 'pattern_list':
      case 'tuple_pattern':
      case 'list_pattern':
      case 'expression_list':
      case 'array_pattern': {
        const items = target.namedChildren();
        items.forEach((item, i) => {
          const elem = v.box && (v.box.kind === 'array' || v.box.kind === 'list') ? join(v.box.elems[i] ?? CLEAN, v.box.rest) : v.box ? this.elementOf(v) : v;
          this.bind(item.kind() === 'assignment_pattern' ? (item.field('left') ?? item) : item, elem, state, at);
        });
        return;
      }
      case 'object_pattern':
        for (const p of target.children()) {
          if (p.kind() === 'shorthand_property_identifier_pattern') this.bind(p, this.member(v, p.text()), state, at);
          else if (p.kind() === 'pair_pattern') {
            const key = p.field('key')?.text() ?? '';
            const value = p.field('value');
            if (value) this.bind(value.kind() === 'assignment_pattern' ? (value.field('left') ?? value) : value, this.member(v, key), state, at);
          } else if (p.kind() === 'object_assignment_pattern') {
            const left = p.field('left');
            if (left) this.bind(left, this.member(v, left.text()), state, at);
          } else if (p.kind() === 'rest_pattern') {
            const id = p.children().find((c) => c.kind() === 'identifier');
            if (id) this.bind(id, v, state, at);
          }
        }
        return;
      case 'member_expression':
      case 'attribute':
      case 'selector_expression':
      case 'subscript_expression':
      case 'subscript':
      case 'index_expression':
        this.storeMember(target, ACCESS[k]!, v, state, at);
        return;
      case 'parenthesized_expression': {
        const inner = target.namedChildren()[0];
        if (inner) this.bind(inner, v, state, at);
        return;
      }
      default:
        return;
    }
  }

  /** `obj.key = v` and `obj[key] = v`: precise in a container, else the object takes the value's taint; property sinks. */
  private storeMember(target: Node, access: (typeof ACCESS)[string], v: Val, state: State, at: Node): void {
    const objNode = fieldOf(target, access.object);
    const prop = access.member ? fieldOf(target, access.key) : null;
    if (!objNode) return;
    const obj = this.expr(objNode, state);
    if (prop) {
      const recv = this.receiverKey(objNode, obj);
      this.engine.checkSinks({ field: prop.text(), receiverType: recv }, obj, [v], [at], at, this);
    }
    const keyNode = access.member ? prop : fieldOf(target, access.key);
    const key = prop ? prop.text() : keyNode ? this.expr(keyNode, state) : CLEAN;
    const k = typeof key === 'string' ? key : key.c !== undefined && !key.assumed ? String(key.c) : undefined;
    const index = typeof key !== 'string' && typeof key.c === 'number' && !key.assumed ? key.c : undefined;
    if (obj.box) {
      if (obj.box.kind === 'map' && k !== undefined) obj.box.keys.set(k, v);
      else if (obj.box.kind !== 'map' && index !== undefined) obj.box.elems[index] = v;
      else obj.box.rest = join(obj.box.rest, v);
    } else if (objNode.kind() === 'identifier' && flatten(v).length) {
      const name = objNode.text();
      const old = state.vars.get(name) ?? CLEAN;
      state.vars.set(name, join(old, derive([v], this.step(at, `stored in ${name}`))));
    }
  }

  private assignment(node: Node, state: State, kind: string): Val {
    const left = node.field('left');
    const right = node.field('right');
    if (!left) return CLEAN;
    // Python `x: int` annotations without a value.
    if (!right) return CLEAN;
    const rightKind = right.kind() as string;
    let v = rightKind === 'expression_list' ? this.exprList(right, state) : this.expr(right, state, rightKind);
    // Plain assignments have no operator field; augmented ones and Go's name theirs.
    const op = kind === 'assignment' || kind === 'assignment_expression' ? '=' : kind === 'short_var_declaration' ? ':=' : (node.field('operator')?.text() ?? '=');
    if (op !== '=' && op !== ':=') {
      const old = this.expr(left, state);
      const folded = foldBinary(op.slice(0, -1), old, v);
      v = { ...derive([old, v]), ...(folded !== undefined ? { c: folded } : {}) };
    }
    const leftKind = left.kind() as string;
    const single = leftKind === 'expression_list' ? left.namedChildren() : undefined;
    if (single?.length === 1) this.bind(single[0]!, v, state, node);
    else this.bind(left, v, state, node, leftKind);
    return v;
  }

  private exprList(node: Node, state: State): Val {
    const items = node.namedChildren();
    if (items.length === 1) return this.expr(items[0]!, state);
    return { taints: [], box: newContainer('array', items.map((i) => this.expr(i, state))) };
  }

  private cond(node: Node | null, state: State): Const | undefined {
    if (!node) return undefined;
    const v = this.expr(node, state);
    return v.assumed ? undefined : v.c;
  }

  private ifStatement(node: Node, state: State, ctx: Ctx): void {
    if (this.lang === 'go') {
      const init = node.field('initializer');
      if (init) this.stmt(init, state, ctx);
    }
    const condition = node.field('condition');
    const c = this.cond(condition, state);
    const then = node.field('consequence');
    const alternatives = node.fieldChildren('alternative');
    const otherwise = (s: State): void => {
      const [first, ...rest] = alternatives;
      if (!first) return;
      if (first.kind() === 'elif_clause') this.elif(first, rest, s, ctx);
      else this.stmt(first, s, ctx);
    };
    if (c === true) {
      if (then) this.stmt(then, state, ctx);
      return;
    }
    if (c === false) {
      otherwise(state);
      return;
    }
    const a = fork(state);
    const b = fork(state);
    if (condition) this.applyGuard(condition, a, b);
    if (then) this.stmt(then, a, ctx);
    otherwise(b);
    merge(state, a, b);
  }

  private elif(clause: Node, rest: Node[], state: State, ctx: Ctx): void {
    const condition = clause.field('condition');
    const c = this.cond(condition, state);
    const body = clause.field('consequence');
    const next = (s: State): void => {
      const [first, ...more] = rest;
      if (!first) return;
      if (first.kind() === 'elif_clause') this.elif(first, more, s, ctx);
      else this.stmt(first, s, ctx);
    };
    if (c === true) {
      if (body) this.stmt(body, state, ctx);
      return;
    }
    if (c === false) return next(state);
    const a = fork(state);
    const b = fork(state);
    if (condition) this.applyGuard(condition, a, b);
    if (body) this.stmt(body, a, ctx);
    next(b);
    merge(state, a, b);
  }

  /** Marks the checked variable safe in the branch where an allow-list or prefix check holds. */
  private applyGuard(condition: Node, whenTrue: State, whenFalse: State): void {
    let node = condition;
    let negated = false;
    let k: string;
    for (;;) {
      k = node.kind() as string;
      if (k === 'parenthesized_expression') node = node.namedChildren()[0] ?? node;
      else if ((k === 'unary_expression' && node.child(0)?.text() === '!') || k === 'not_operator') {
        negated = !negated;
        node = node.field('argument') ?? node.field('operand') ?? node.namedChildren()[0] ?? node;
      } else break;
      if (node === condition) return;
    }
    let subject: Node | undefined;
    let kinds: readonly string[] | undefined;
    if (k === 'comparison_operator') {
      const { operands, operators } = comparisonParts(node);
      const op = operators.map((c) => c.text()).join(' ');
      const g = this.guards.find((x) => x.operators?.includes(op === 'not in' ? 'in' : op));
      if (g && operands.length === 2) {
        subject = operands[0];
        kinds = g.kinds;
        if (op === 'not in') negated = !negated;
      }
    } else if (k === 'call_expression' || k === 'call') {
      const fn = node.field('function');
      const argNodes = this.argNodes(node);
      const { target, objNode } = this.target(fn, whenTrue);
      const g = this.guards.find((x) => !x.operators && matches(x, target));
      if (g) {
        subject = g.subject === 'receiver' ? (objNode ?? undefined) : argNodes[g.subject];
        kinds = g.kinds;
      }
    }
    if (!subject || !kinds || subject.kind() !== 'identifier') return;
    const name = subject.text();
    const local = whenTrue.vars.get(name);
    if (local === undefined) this.unassignedReads?.add(name);
    const safe = local ?? this.globals.get(name);
    if (!safe) return;
    (negated ? whenFalse : whenTrue).vars.set(name, sanitize(safe, kinds));
  }

  private loop(node: Node, state: State, ctx: Ctx): void {
    const kind = node.kind() as string;
    const init = node.field('initializer');
    if (kind === 'for_statement' && init && this.lang !== 'python') this.stmt(init, state, ctx);
    const condition = node.field('condition');
    if ((kind === 'while_statement' || kind === 'for_statement') && condition && this.lang !== 'python' && this.cond(condition, state) === false) return;
    if (kind === 'while_statement' && this.lang === 'python' && condition && this.cond(condition, state) === false) return;
    const body = node.field('body');
    // Iteration variables: Python `for x in xs`, JS `for (const x of xs)`, Go `for k, v := range m`.
    const left = node.field('left');
    const right = node.field('right');
    const range = this.lang === 'go' ? node.children().find((c) => c.kind() === 'range_clause') : undefined;
    const iter = right ? this.expr(right, state) : range?.field('right') ? this.expr(range.field('right')!, state) : undefined;
    const entry = fork(state);
    // Containers are shared, so the body's writes reach `entry` too: its signature is taken before the walk.
    const seen = stateSignature(entry, () => true);
    const outerReads = this.unassignedReads;
    const reads = (this.unassignedReads = new Set<string>());
    let current = fork(state);
    for (let i = 0; i < 2; i++) {
      if (iter && left) this.bind(left, this.elementOf(iter), current, node);
      if (iter && range?.field('left')) {
        const targets = range.field('left')!.namedChildren();
        targets.forEach((t) => this.bind(t, this.elementOf(iter), current, node));
      }
      if (body) this.stmt(body, current, ctx);
      current.broke = false;
      current.dead = false;
      const update = node.field('update') ?? node.field('increment');
      if (update && this.lang !== 'python') this.expr(update, current);
      if (i === 0) {
        current = joined(entry, current);
        // A second pass sees something new only if the first carried taint, a constant, a type or a write into a
        // container around the loop. A plain variable the body introduced reads as one never assigned.
        this.unassignedReads = outerReads;
        for (const name of reads) outerReads?.add(name);
        const seesNew = (k: string, v: Val) => reads.has(k) && !(isPlain(v) && isPlain(this.globals.get(k) ?? CLEAN));
        if (stateSignature(current, (k, v) => entry.vars.has(k) || seesNew(k, v)) === seen) break;
      }
    }
    merge(state, kind === 'do_statement' ? current : entry, current);
  }

  private branches(node: Node, state: State, ctx: Ctx): void {
    const value = node.field('value') ?? node.field('subject');
    if (value) this.expr(value, state);
    const body = node.field('body');
    const list = (body ?? node).children().filter((c) => /case|default/.test(c.kind() as string));
    const outs = list.map((c) => {
      const s = fork(state);
      // Case values and patterns evaluate as expressions (harmless); the statements after them run in order.
      for (const x of c.namedChildren()) this.stmt(x, s, ctx);
      s.broke = false;
      return s;
    });
    outs.push(fork(state));
    let acc = outs[0]!;
    for (const o of outs.slice(1)) acc = joined(acc, o);
    state.vars = acc.vars;
  }

  private tryStatement(node: Node, state: State, ctx: Ctx): void {
    const before = fork(state);
    const body = node.field('body') ?? node.children().find((c) => c.kind() === 'block');
    if (body) this.stmt(body, state, ctx);
    for (const c of node.children()) {
      const k = c.kind();
      if (k === 'catch_clause' || k === 'except_clause') {
        const s = joined(before, { ...fork(state), dead: false });
        for (const b of c.children()) if (b.kind() === 'statement_block' || b.kind() === 'block') this.block(b, s, ctx);
        merge(state, state, s);
      } else if (k === 'finally_clause' || k === 'else_clause') {
        const wasDead = state.dead;
        state.dead = false;
        this.stmt(c, state, ctx);
        state.dead = state.dead || wasDead;
      }
    }
    const fin = node.field('finalizer');
    if (fin) this.stmt(fin, state, ctx);
  }

  // ---- expressions ----

  private elementOf(coll: Val): Val {
    if (!coll.box) return coll.taints.length ? { taints: coll.taints } : CLEAN;
    const b = coll.box;
    return [...b.elems, ...b.keys.values(), b.rest].reduce((a, e) => join(a, e), coll.taints.length ? { taints: coll.taints } : CLEAN);
  }

  /** A property or key read: precise in a container, else whatever the object carries. */
  private member(obj: Val, key: string | undefined): Val {
    if (obj.box?.kind === 'map' && key !== undefined) return join(obj.box.keys.get(key) ?? CLEAN, obj.box.rest);
    if (obj.box) return this.elementOf(obj);
    return obj.taints.length ? { taints: obj.taints } : CLEAN;
  }

  /** The dotted name of an expression with imports resolved: `sp.call` → `subprocess.call`. */
  private dotted(node: Node | null | undefined): string | undefined {
    if (!node) return undefined;
    const k = node.kind() as string;
    if (k === 'identifier' || k === 'package_identifier') {
      const name = node.text();
      return this.imports.get(name) ?? name;
    }
    if (k === 'this' || k === 'self') return 'this';
    const access = ACCESS[k];
    if (access?.member) {
      const obj = this.dotted(fieldOf(node, access.object));
      const prop = fieldOf(node, access.key)?.text();
      return obj && prop ? `${obj}.${prop}` : undefined;
    }
    if (k === 'call_expression' && this.lang === 'javascript') return this.requiredModule(node);
    return undefined;
  }

  /**
   * The receiver as the spec names it: a declared type, the resolved dotted name, or the name as written.
   * `kind` and, for an identifier, `name` when the caller has read them already.
   */
  private receiverKey(objNode: Node | null | undefined, obj: Val | undefined, kind?: string, name?: string): string | undefined {
    if (obj?.type && this.receiverNames.has(obj.type)) return obj.type;
    if (!objNode) return obj?.type;
    const k = kind ?? (objNode.kind() as string);
    const identifier = k === 'identifier' || k === 'package_identifier';
    const bare = identifier ? (name ?? objNode.text()) : undefined;
    const full = bare !== undefined ? (this.imports.get(bare) ?? bare) : this.dotted(objNode);
    if (full === undefined) return obj?.type;
    if (this.receiverNames.has(full)) return full;
    const written = bare ?? objNode.text();
    if (this.receiverNames.has(written)) return written;
    const last = full.slice(full.lastIndexOf('.') + 1);
    return this.receiverNames.has(last) && k !== 'identifier' ? last : (obj?.type ?? full);
  }

  /**
   * What a call calls: the method and receiver as the spec names them, the receiver's value, and `local`, the
   * name of a same-file function it reaches (a bare call not imported, or `this.`/`self.`, or Go's `x.f` on a
   * local value). Each node is read once.
   */
  private target(fn: Node | null, state: State): { target: CallTarget; objNode: Node | null; recv: Val | undefined; local?: string } {
    if (!fn) return { target: {}, objNode: null, recv: undefined };
    const k = fn.kind();
    const access = ACCESS[k];
    if (access?.member) {
      const objNode = fieldOf(fn, access.object);
      const method = fieldOf(fn, access.key)?.text() ?? '';
      const objKind = objNode?.kind() as string | undefined;
      const recv = objNode ? this.expr(objNode, state, objKind) : undefined;
      const objName = objKind === 'identifier' ? objNode!.text() : undefined;
      const own = objKind === 'this' || objName === 'self' || (this.lang === 'go' && objName !== undefined && !this.imports.has(objName));
      return { target: { method, receiverType: this.receiverKey(objNode, recv, objKind, objName) }, objNode, recv, ...(own ? { local: method } : {}) };
    }
    if (k === 'identifier') {
      const name = fn.text();
      const resolved = this.imports.get(name);
      if (resolved && resolved.includes('.')) {
        const dot = resolved.lastIndexOf('.');
        return { target: { method: resolved.slice(dot + 1), receiverType: resolved.slice(0, dot) }, objNode: null, recv: undefined };
      }
      return { target: { method: resolved ?? name }, objNode: null, recv: undefined, ...(resolved === undefined ? { local: name } : {}) };
    }
    return { target: {}, objNode: null, recv: fn ? this.expr(fn, state) : undefined };
  }

  private argNodes(call: Node): Node[] {
    return this.callArgs(call).positional;
  }

  /** Positional and keyword arguments in one pass: each node's kind is read once. */
  private callArgs(call: Node): { positional: Node[]; kinds: string[]; keyword: Node[] } {
    const positional: Node[] = [];
    const kinds: string[] = [];
    const keyword: Node[] = [];
    for (const c of call.field('arguments')?.namedChildren() ?? []) {
      const k = c.kind() as string;
      if (k === 'keyword_argument') keyword.push(c);
      else if (!PUNCTUATION.has(k) && k !== 'comment') {
        positional.push(c);
        kinds.push(k);
      }
    }
    return { positional, kinds, keyword };
  }

  private keywordArgs(call: Node): Map<string, Node> {
    const out = new Map<string, Node>();
    for (const c of call.field('arguments')?.children() ?? []) {
      if (c.kind() === 'keyword_argument') {
        const name = c.field('name')?.text();
        const value = c.field('value');
        if (name && value) out.set(name, value);
      } else if (c.kind() === 'object') {
        for (const p of c.children()) {
          if (p.kind() !== 'pair') continue;
          const key = p.field('key')?.text().replace(/^['"]|['"]$/g, '');
          const value = p.field('value');
          if (key && value) out.set(key, value);
        }
      }
    }
    return out;
  }

  private call(node: Node, state: State): Val {
    const unused = this.resultUnused;
    this.resultUnused = false;
    const fn = node.field('function');
    const { positional: argNodes, kinds: argKinds, keyword } = this.callArgs(node);
    const { target, objNode, recv, local: localName } = this.target(fn, state);
    const args = argNodes.map((a, i) => this.expr(a, state, argKinds[i]));
    const kwVals = keyword.map((k) => {
      const value = k.field('value');
      return value ? this.expr(value, state) : CLEAN;
    });

    const local = localName ? (this.functions.get(localName) ?? []) : [];
    // A callee that cannot produce tainted data matters only when tainted data goes in: otherwise it is not walked.
    // Nor is one called by module-level code that drops the result: what it can report, it reports as an entry point.
    const cleanArgs = !args.some((a) => flatten(a).length) && !kwVals.some((a) => flatten(a).length);
    if (local.length && cleanArgs && (unused || !local.some((m) => this.producers.has(m.id())))) return CLEAN;
    if (local.length) {
      let out: Val = CLEAN;
      for (const m of local) {
        const summary = this.summarise(m);
        const tuple = summary.returns.box?.kind === 'array' ? summary.returns.box.elems : undefined;
        if (!tuple) {
          out = join(out, this.engine.applySummary(summary, args, node, this));
          continue;
        }
        // Multiple results (`return s, nil`, `return a, b`) stay apart, so each target gets its own.
        this.engine.applySummary({ returns: CLEAN, sinks: summary.sinks }, args, node, this);
        const elems = tuple.map((e) => this.engine.applySummary({ returns: e, sinks: [] }, args, node, this));
        out = join(out, { taints: [], box: newContainer('array', elems) });
      }
      return out;
    }
    const kw = (): Map<string, Node> => this.keywordArgs(node);
    const applies = (sink: SinkSpec): boolean => {
      const w = sink.when!;
      const n = w.keyword !== undefined ? kw().get(w.keyword) : argNodes[w.arg ?? 0];
      let ok: boolean;
      if (w.type) ok = n !== undefined && w.type.includes(this.expr(n, state).type ?? '');
      else {
        const text = n === undefined ? undefined : (this.expr(n, state).c ?? n.text());
        ok = text !== undefined && new RegExp(w.pattern ?? '').test(String(text));
      }
      return w.unless ? !ok : ok;
    };
    const allArgs = kwVals.length ? [...args, ...kwVals] : args;
    const kwIndex = keyword.length ? new Map(keyword.map((k, i) => [k.field('name')?.text() ?? '', args.length + i])) : undefined;
    this.engine.checkSinks(target, recv, this.lang === 'python' ? allArgs : args, argNodes, node, this, applies, kwIndex);
    this.shellCommand(target, args, argNodes, node);
    const source = this.engine.source(target, node, this);
    if (source) return source;
    const sanitizer = this.engine.sanitizer(target);
    if (sanitizer) return this.engine.sanitized(args, recv, sanitizer);
    const hinted = this.engine.returnType(target.receiverType === undefined && !objNode ? { ...target, receiverType: 'builtins' } : target);
    const method = target.method ?? '';
    if (recv?.box) {
      const modelled = this.modelCall(method, recv, args);
      if (modelled) return modelled;
    }
    if (this.lang === 'go' && method === 'append' && !objNode) {
      const [first, ...rest] = args;
      if (first?.box) {
        for (const r of rest) first.box.elems.push(r);
        return first;
      }
    }
    if (this.engine.isClean(method)) return hinted ? { taints: [], type: hinted } : CLEAN;
    if (this.lang === 'python' && !objNode && /^(int|float|bool|len)$/.test(method)) return CLEAN;
    const parts = recv ? [recv, ...allArgs] : allArgs;
    const v = derive(parts);
    return hinted ? { ...v, type: hinted } : v;
  }

  /** `exec.Command("sh", "-c", cmd)` and `spawn("bash", ["-c", cmd])`: the script argument is a command sink. */
  private shellCommand(target: CallTarget, args: Val[], argNodes: Node[], node: Node): void {
    const first = args[0]?.c;
    if (typeof first !== 'string' || !SHELLS.test(first)) return;
    const t = { ...target };
    const rest = args.slice(1).flatMap((a) => (a.box ? [...a.box.elems, a.box.rest] : [a]));
    if (!this.engine.spec.sinks.some((s) => s.kind === 'command' && matches(s, t))) return;
    // The script a shell runs is the command, whichever argument carries it.
    this.engine.checkSinks(t, undefined, [derive(rest)], [argNodes[argNodes.length - 1] ?? node], node, this, () => true);
  }

  /** Lists, arrays and maps: what goes in by index or key, and reads back. */
  private modelCall(name: string, recv: Val, args: Val[]): Val | undefined {
    const box = recv.box!;
    const key = (v: Val | undefined): string | undefined => (v && v.c !== undefined && !v.assumed ? String(v.c) : undefined);
    if (box.kind === 'list' || box.kind === 'array') {
      switch (name) {
        case 'push':
        case 'append':
        case 'unshift':
          for (const a of args) box.elems.push(a);
          return CLEAN;
        case 'extend':
        case 'concat':
          for (const a of args) box.rest = join(box.rest, this.elementOf(a));
          return name === 'concat' ? recv : CLEAN;
        case 'pop':
        case 'shift':
          return this.elementOf(recv);
        case 'join':
          return derive([this.elementOf(recv)]);
        default:
          return undefined;
      }
    }
    if (box.kind === 'map') {
      switch (name) {
        case 'get':
        case 'pop':
        case 'setdefault': {
          const k = key(args[0]);
          if (k !== undefined) return join(join(box.keys.get(k) ?? CLEAN, box.rest), args[1] ?? CLEAN);
          return this.elementOf(recv);
        }
        case 'set': {
          const k = key(args[0]);
          if (k !== undefined) box.keys.set(k, args[1] ?? CLEAN);
          else box.rest = join(box.rest, args[1] ?? CLEAN);
          return recv;
        }
        case 'update':
          for (const a of args) box.rest = join(box.rest, this.elementOf(a));
          return CLEAN;
        case 'values':
        case 'items':
        case 'keys':
        case 'entries':
          return { taints: flatten(recv) };
        default:
          return undefined;
      }
    }
    return undefined;
  }

  private literalContainer(node: Node, state: State, kind: 'map' | 'array', fieldKeys = false): Val {
    const box = newContainer(kind);
    for (const c of node.namedChildren()) {
      const ck = c.kind() as string;
      if (ck === 'comment') continue;
      if (ck === 'pair' || ck === 'keyed_element') {
        const parts = c.namedChildren();
        const keyNode = c.field('key') ?? parts[0];
        const valueNode = c.field('value') ?? parts[1];
        const keyInner = keyNode?.kind() === 'literal_element' ? (keyNode.children()[0] ?? keyNode) : keyNode;
        const named = keyInner && (keyInner.kind() === 'property_identifier' || (keyInner.kind() === 'identifier' && (this.lang === 'javascript' || fieldKeys)));
        const keyVal = keyInner ? (named ? constant(keyInner.text()) : this.expr(keyInner, state)) : CLEAN;
        const v = valueNode ? this.expr(valueNode.kind() === 'literal_element' ? (valueNode.children()[0] ?? valueNode) : valueNode, state) : CLEAN;
        if (box.kind === 'array' && kind === 'array') box.rest = join(box.rest, v);
        else if (keyVal.c !== undefined) box.keys.set(String(keyVal.c), v);
        else box.rest = join(box.rest, v);
      } else if (ck === 'shorthand_property_identifier') box.keys.set(c.text(), this.expr(c, state));
      else if (ck === 'spread_element' || ck === 'dictionary_splat' || ck === 'list_splat') box.rest = join(box.rest, this.elementOf(this.expr(c.namedChildren()[0] ?? c, state)));
      else if (kind === 'array') box.elems.push(this.expr(ck === 'literal_element' || ck === 'element' ? (c.children()[0] ?? c) : c, state));
    }
    return { taints: [], box };
  }

  /** The value of an expression; `kind` when the caller has read it already. */
  expr(node: Node, state: State, kind = node.kind() as string): Val {
    switch (kind) {
      case 'string':
      case 'interpreted_string_literal':
      case 'raw_string_literal':
      case 'template_string':
      case 'concatenated_string': {
        // Only f-strings, template strings and concatenations have parts; reading children costs far more than text.
        const text = kind === 'template_string' || kind === 'concatenated_string' ? undefined : node.text();
        const literal = (t: string) => constant(kind === 'raw_string_literal' ? t.slice(1, -1) : unquote(t, this.lang), 'str');
        if (text !== undefined && !(this.lang === 'python' && /^[a-zA-Z]*[fF]/.test(text))) return literal(text);
        const parts = node.children().filter((c) => c.kind() === 'interpolation' || c.kind() === 'template_substitution' || c.kind() === 'string');
        if (!parts.length) return literal(text ?? node.text());
        const inner = parts.map((p) => this.expr(p.kind() === 'string' ? p : (p.namedChildren()[0] ?? p), state));
        const folded = inner.every((v) => typeof v.c === 'string') && kind === 'concatenated_string' ? inner.map((v) => v.c).join('') : undefined;
        return folded !== undefined ? constant(folded, 'str') : derive(inner, undefined, 'str');
      }
      case 'number':
      case 'integer':
      case 'float':
      case 'int_literal':
      case 'float_literal': {
        const n = Number(node.text().replace(/_/g, ''));
        return Number.isNaN(n) ? CLEAN : constant(n);
      }
      case 'true':
        return constant(true);
      case 'false':
        return constant(false);
      case 'null':
      case 'undefined':
      case 'none':
      case 'nil':
        return constant(null);
      case 'identifier':
      case 'shorthand_property_identifier': {
        const name = node.text();
        const local = state.vars.get(name);
        if (local === undefined) this.unassignedReads?.add(name);
        const v = local ?? this.globals.get(name);
        if (v) return v;
        // A bare source name (`input` is a call; `argv` after `from sys import argv` is not).
        const resolved = this.imports.get(name);
        if (resolved?.includes('.')) {
          const dot = resolved.lastIndexOf('.');
          const src = this.engine.source({ field: resolved.slice(dot + 1), receiverType: resolved.slice(0, dot) }, node, this);
          if (src) return src;
        }
        return CLEAN;
      }
      case 'parenthesized_expression':
      case 'await_expression':
      case 'await':
      case 'non_null_expression':
      case 'as_expression':
      case 'satisfies_expression':
      case 'type_assertion_expression':
      case 'spread_element':
      case 'expression_statement':
      case 'literal_element':
      case 'interpolation':
      case 'template_substitution': {
        const inner = node.namedChildren()[0];
        return inner ? this.expr(inner, state) : CLEAN;
      }
      case 'expression_list':
        return this.exprList(node, state);
      case 'binary_expression':
      case 'binary_operator':
      case 'boolean_operator':
      case 'comparison_operator':
        return this.binary(node, state);
      case 'unary_expression':
      case 'not_operator':
      case 'unary_operator': {
        const operand = node.field('argument') ?? node.field('operand') ?? node.namedChildren()[0];
        const v = operand ? this.expr(operand, state) : CLEAN;
        const op = node.field('operator')?.text() ?? node.child(0)?.text();
        if ((op === '!' || op === 'not') && typeof v.c === 'boolean' && !v.assumed) return constant(!v.c);
        if (op === '-' && typeof v.c === 'number') return constant(-v.c);
        if (op === '&' || op === '*' || op === '<-') return v;
        return CLEAN;
      }
      case 'ternary_expression':
      case 'conditional_expression': {
        const parts = node.namedChildren();
        // Python: `a if cond else b`; JS: `cond ? a : b`.
        const [c, a, b] = kind === 'conditional_expression' ? [parts[1], parts[0], parts[2]] : [node.field('condition'), node.field('consequence'), node.field('alternative')];
        const cv = this.cond(c ?? null, state);
        if (cv === true) return a ? this.expr(a, state) : CLEAN;
        if (cv === false) return b ? this.expr(b, state) : CLEAN;
        return join(a ? this.expr(a, state) : CLEAN, b ? this.expr(b, state) : CLEAN);
      }
      case 'assignment_expression':
      case 'augmented_assignment_expression':
      case 'assignment':
      case 'named_expression': {
        if (kind === 'named_expression') {
          const v = this.expr(node.field('value')!, state);
          const n = node.field('name');
          if (n) this.setVar(n.text(), v, node, state);
          return v;
        }
        return this.assignment(node, state, kind);
      }
      case 'call_expression':
      case 'call':
        return this.call(node, state);
      case 'new_expression': {
        const ctor = node.field('constructor');
        const argNodes = this.argNodes(node);
        const args = argNodes.map((a) => this.expr(a, state));
        const type = this.dotted(ctor) ?? ctor?.text() ?? '';
        const t = { constructorType: type.slice(type.lastIndexOf('.') + 1) };
        this.engine.checkSinks(t, undefined, args, argNodes, node, this);
        const source = this.engine.source(t, node, this);
        if (source) return source;
        if (/^(Map|Object)$/.test(t.constructorType)) return { taints: [], box: newContainer('map') };
        return derive(args, undefined, t.constructorType);
      }
      case 'member_expression':
      case 'attribute':
      case 'selector_expression': {
        const access = ACCESS[kind]!;
        const objNode = fieldOf(node, access.object);
        const field = fieldOf(node, access.key)?.text() ?? '';
        const objKind = objNode?.kind() as string | undefined;
        const obj = objNode ? this.expr(objNode, state, objKind) : CLEAN;
        const src = this.engine.source({ field, receiverType: this.receiverKey(objNode, obj, objKind) }, node, this);
        if (src) return src;
        if (field === 'length') return CLEAN;
        return this.member(obj, field);
      }
      case 'subscript_expression':
      case 'subscript':
      case 'index_expression': {
        const access = ACCESS[kind]!;
        const objNode = fieldOf(node, access.object);
        const idxNode = fieldOf(node, access.key);
        const obj = objNode ? this.expr(objNode, state) : CLEAN;
        const idx = idxNode ? this.expr(idxNode, state) : CLEAN;
        if (obj.box && (obj.box.kind === 'array' || obj.box.kind === 'list') && typeof idx.c === 'number' && obj.box.elems[idx.c] !== undefined) return join(obj.box.elems[idx.c]!, obj.box.rest);
        return this.member(obj, idx.c !== undefined && !idx.assumed ? String(idx.c) : undefined);
      }
      case 'slice_expression':
      case 'slice': {
        const objNode = node.field('operand') ?? node.namedChildren()[0];
        return objNode ? derive([this.expr(objNode, state)]) : CLEAN;
      }
      case 'object':
      case 'dictionary':
        return this.literalContainer(node, state, 'map');
      case 'array':
      case 'list':
      case 'tuple':
      case 'set':
        return this.literalContainer(node, state, 'array');
      case 'composite_literal': {
        const body = node.field('body');
        const type = node.field('type')?.kind();
        if (!body) return CLEAN;
        // Slices and arrays hold elements; maps and structs hold values by key or field name.
        const list = type === 'slice_type' || type === 'array_type' || type === 'implicit_length_array_type';
        return this.literalContainer(body, state, list ? 'array' : 'map', type !== 'map_type' && !list);
      }
      case 'type_conversion_expression': {
        const operand = node.field('operand');
        return operand ? this.expr(operand, state) : CLEAN;
      }
      case 'list_comprehension':
      case 'generator_expression':
      case 'set_comprehension':
      case 'dictionary_comprehension': {
        const body = node.field('body');
        const clauses = node.children().filter((c) => c.kind() === 'for_in_clause');
        const s = fork(state);
        for (const cl of clauses) {
          const right = cl.field('right');
          const left = cl.field('left');
          if (right && left) this.bind(left, this.elementOf(this.expr(right, s)), s, cl);
        }
        const v = body ? this.expr(body, s) : CLEAN;
        return { taints: [], box: { ...newContainer('array'), rest: v } };
      }
      case 'arrow_function':
      case 'function_expression':
      case 'function':
      case 'func_literal':
      case 'lambda':
        // A callback: analysed in place so it sees the variables around it.
        if (this.mayReachSink(node)) this.summarise(node, state);
        return CLEAN;
      default:
        return CLEAN;
    }
  }

  private binary(node: Node, state: State): Val {
    let l: Node | null | undefined;
    let r: Node | null | undefined;
    let op: string;
    if (node.kind() === 'comparison_operator') {
      const { operands, operators } = comparisonParts(node);
      [l, r] = operands;
      op = operators[0]?.text() ?? '';
    } else {
      l = node.field('left');
      r = node.field('right');
      op = node.field('operator')?.text() ?? '';
    }
    op = ({ '===': '==', '!==': '!=', and: '&&', or: '||', '??': '||' } as Record<string, string>)[op] ?? op;
    const a = l ? this.expr(l, state) : CLEAN;
    if (op === '&&' && a.c === false && !a.assumed) return constant(false);
    if (op === '||' && a.c === true && !a.assumed) return constant(true);
    const b = r ? this.expr(r, state) : CLEAN;
    const folded = foldBinary(op, a, b);
    const assumed = a.assumed || b.assumed;
    if (op === '+' || op === '%' || op === '||' || op === '&&') {
      // Concatenation, `%`-formatting, and `a || b` / `a or b` which yield an operand.
      const v = op === '%' && typeof a.c === 'number' ? CLEAN : derive(op === '&&' ? [b] : [a, b]);
      return folded === undefined ? v : { ...v, c: folded, ...(assumed ? { assumed } : {}) };
    }
    if (folded !== undefined) return { taints: [], c: folded, ...(assumed ? { assumed } : {}) };
    // Strings compare by value in all three languages (unlike Java's references).
    if ((op === '==' || op === '!=') && typeof a.c === 'string' && typeof b.c === 'string' && !assumed) return constant(op === '==' ? a.c === b.c : a.c !== b.c);
    return CLEAN;
  }
}

