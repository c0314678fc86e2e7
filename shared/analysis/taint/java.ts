/**
 * The Java adapter of the taint engine: walks each method's statements in order over tree-sitter-java node
 * kinds, keeping an abstract value per variable. Branches are analysed separately and joined; conditions and
 * switch selectors that fold to constants drop the dead branch. Calls to methods of the same file use
 * summaries (which parameters reach the return value and which reach sinks), computed once per method.
 */
import type { SgNode } from '@ast-grep/napi';
import type { FlowStep, Location } from '../types.ts';
import { type AdapterView, type Summary, type TaintEngine, selectEntryPoints } from './engine.ts';
import { CLEAN, type Const, type Container, type State, type Taint, type Val, constant, derive, flatten, foldBinary, fork, join, joined, merge, newContainer, withStep } from './values.ts';

type Node = SgNode;

const NOT_ARGUMENT = new Set(['(', ')', ',', 'block_comment', 'line_comment']);
const LITERAL_NUMBER = new Set(['decimal_integer_literal', 'hex_integer_literal', 'octal_integer_literal', 'binary_integer_literal', 'decimal_floating_point_literal']);
const LIST_TYPES = /^(ArrayList|LinkedList|List|Vector|Stack|ArrayDeque|Deque|Queue|Collection|Set|HashSet|LinkedHashSet|TreeSet|CopyOnWriteArrayList)$/;
const MAP_TYPES = /^(HashMap|Map|TreeMap|LinkedHashMap|Hashtable|ConcurrentHashMap|Properties|SortedMap|EnumMap|WeakHashMap|MultiValueMap|LinkedMultiValueMap)$/;
const BUILDER_TYPES = /^(StringBuilder|StringBuffer|StringWriter|StringJoiner)$/;

/** Simple name of a type: `java.util.List<String>` → `List`, `String[]` → `String[]`. */
export function simpleType(text: string): string {
  const noGenerics = text.replace(/<.*>/s, '').replace(/\s+/g, '');
  const arr = noGenerics.endsWith('[]') ? '[]' : '';
  const base = noGenerics.replace(/\[\]/g, '');
  return base.slice(base.lastIndexOf('.') + 1) + arr;
}

function unquote(text: string): string {
  const body = text.startsWith('"""') ? text.slice(3, -3) : text.slice(1, -1);
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.startsWith('u') && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}

export class JavaAnalysis implements AdapterView {
  current: Summary = { returns: CLEAN, sinks: [] };
  private readonly methods = new Map<string, Node[]>();
  private readonly classes = new Set<string>();
  private readonly fields = new Map<string, Val>();
  private readonly summaries = new Map<number, Summary>();
  private readonly inProgress = new Set<number>();

  constructor(
    private readonly engine: TaintEngine,
    private readonly root: Node,
  ) {}

  run(): void {
    // Native searches index the file; walking every node through the bindings would cost more than the parse.
    for (const c of this.root.findAll({ rule: { any: [{ kind: 'class_declaration' }, { kind: 'interface_declaration' }, { kind: 'enum_declaration' }, { kind: 'record_declaration' }] } })) {
      const name = c.field('name')?.text();
      if (name) this.classes.add(name);
    }
    for (const f of this.root.findAll({ rule: { kind: 'field_declaration' } })) this.fieldDeclaration(f);
    const decls = this.root.findAll({ rule: { any: [{ kind: 'method_declaration' }, { kind: 'constructor_declaration' }] } });
    for (const m of decls) {
      const name = m.field('name')?.text() ?? '';
      const list = this.methods.get(name) ?? [];
      list.push(m);
      this.methods.set(name, list);
    }
    // Only methods that can reach a source and a sink are entry points; the rest are summarised when called.
    const tainted = [...this.fields].filter(([, v]) => flatten(v).some((t) => t.origin !== 'param')).map(([k]) => k);
    const entries = selectEntryPoints(this.engine, decls.map((m) => ({ name: m.field('name')?.text() ?? '', text: m.text() })), tainted);
    decls.forEach((m, i) => {
      if (entries[i]) this.summarise(m);
    });
  }

  private fieldDeclaration(node: Node): void {
    const type = simpleType(node.field('type')?.text() ?? '');
    const state: State = { vars: new Map(), dead: false, broke: false };
    for (const d of node.children()) {
      if (d.kind() !== 'variable_declarator') continue;
      const name = d.field('name')?.text();
      const value = d.field('value');
      if (!name) continue;
      const v = value ? this.expr(value, state) : CLEAN;
      this.fields.set(name, v.type ? v : { ...v, type });
    }
  }

  private summarise(method: Node): Summary {
    const id = method.id();
    const done = this.summaries.get(id);
    if (done) return done;
    const summary: Summary = { returns: CLEAN, sinks: [] };
    if (this.inProgress.has(id)) return summary;
    this.inProgress.add(id);
    const state: State = { vars: new Map(), dead: false, broke: false };
    const params = method.field('parameters');
    let index = 0;
    for (const p of params?.children() ?? []) {
      if (p.kind() !== 'formal_parameter' && p.kind() !== 'spread_parameter') continue;
      const name = p.field('name')?.text() ?? p.children().filter((c) => c.kind() === 'variable_declarator')[0]?.field('name')?.text();
      const type = simpleType(p.field('type')?.text() ?? p.children().find((c) => String(c.kind()).endsWith('type') || c.kind() === 'type_identifier')?.text() ?? '');
      if (!name) continue;
      const loc = this.loc(p);
      const annotated = this.engine.annotationSource(this.annotations(p));
      const taints: Taint[] = [{ origin: 'param', param: index, steps: [{ ...loc, label: `parameter ${name}` }], sanitized: new Set<string>() }];
      if (annotated) taints.push({ origin: 'user', steps: [{ ...loc, label: `${annotated} ${name}` }], sanitized: new Set<string>() });
      state.vars.set(name, { taints, type });
      index++;
    }
    const returns: Val[] = [];
    const body = method.field('body');
    const outer = this.current;
    this.current = summary;
    if (body) this.block(body, state, { returns });
    this.current = outer;
    summary.returns = returns.reduce((a, b) => join(a, b), CLEAN);
    this.inProgress.delete(id);
    this.summaries.set(id, summary);
    return summary;
  }

  private annotations(param: Node): string[] {
    const mods = param.children().find((c) => c.kind() === 'modifiers');
    if (!mods) return [];
    return mods.children().filter((c) => c.kind() === 'annotation' || c.kind() === 'marker_annotation').map((a) => simpleType(a.field('name')?.text() ?? ''));
  }

  loc(node: Node): Location {
    const r = node.range();
    return { path: this.engine.path, startLine: r.start.line + 1, startColumn: r.start.column + 1, endLine: r.end.line + 1, endColumn: r.end.column };
  }

  private step(node: Node, label: string): FlowStep {
    return { ...this.loc(node), label };
  }

  // ---- statements ----

  private block(node: Node, state: State, ctx: Ctx): void {
    // Comments fall through `stmt` as no-ops.
    for (const s of node.namedChildren()) {
      if (state.dead || state.broke) return;
      this.stmt(s, state, ctx);
    }
  }

  private stmt(node: Node, state: State, ctx: Ctx): void {
    const kind = node.kind() as string;
    switch (kind) {
      case 'block':
      case 'static_initializer':
        this.block(node, state, ctx);
        return;
      case 'local_variable_declaration':
        this.localDeclaration(node, state);
        return;
      case 'expression_statement': {
        const e = innerOf(node, 0);
        if (e) this.expr(e, state);
        return;
      }
      case 'if_statement':
        this.ifStatement(node, state, ctx);
        return;
      case 'while_statement':
      case 'for_statement':
      case 'do_statement':
        this.loop(node, state, ctx);
        return;
      case 'enhanced_for_statement':
        this.forEach(node, state, ctx);
        return;
      case 'switch_expression':
      case 'switch_statement':
        this.switchValue(node, state, ctx);
        return;
      case 'try_statement':
      case 'try_with_resources_statement':
        this.tryStatement(node, state, ctx);
        return;
      case 'return_statement': {
        const e = innerOf(node, 1);
        if (e) ctx.returns.push(this.expr(e, state));
        state.dead = true;
        return;
      }
      case 'throw_statement':
        for (const c of node.children()) if (c.isNamed()) this.expr(c, state);
        state.dead = true;
        return;
      case 'break_statement':
        state.broke = true;
        return;
      case 'continue_statement':
        state.broke = true;
        return;
      case 'synchronized_statement':
      case 'labeled_statement':
        for (const c of node.children()) {
          if (c.kind() === 'block') this.block(c, state, ctx);
          else if (c.isNamed() && c.kind() !== 'identifier' && c.kind() !== 'parenthesized_expression') this.stmt(c, state, ctx);
        }
        return;
      case 'local_class_declaration':
      case 'class_declaration':
        return;
      default:
        if (kind.endsWith('expression') || kind === 'method_invocation') this.expr(node, state);
    }
  }

  private localDeclaration(node: Node, state: State): void {
    const declared = simpleType(node.field('type')?.text() ?? '');
    for (const d of node.namedChildren()) {
      if (d.kind() !== 'variable_declarator') continue;
      const name = d.field('name')?.text();
      if (!name) continue;
      const value = d.field('value');
      let v: Val;
      if (!value) v = CLEAN;
      else if (value.kind() === 'array_initializer') v = this.arrayInit(value, state);
      else v = this.expr(value, state);
      this.assign(name, v, declared, d, state);
    }
  }

  private assign(name: string, v: Val, declared: string | undefined, at: Node, state: State): void {
    const taints = v.taints.length ? v.taints.map((t) => withStep(t, this.step(at, `assigned to ${name}`))) : v.taints;
    const type = v.type ?? (declared && declared !== 'var' ? declared : undefined);
    state.vars.set(name, { ...v, taints, ...(type ? { type } : {}) });
  }

  private cond(node: Node | null, state: State): Const | undefined {
    if (!node) return undefined;
    const v = this.expr(node, state);
    return v.assumed ? undefined : v.c;
  }

  private ifStatement(node: Node, state: State, ctx: Ctx): void {
    const c = this.cond(node.field('condition'), state);
    const then = node.field('consequence');
    const otherwise = node.field('alternative');
    if (c === true) {
      if (then) this.stmt(then, state, ctx);
      return;
    }
    if (c === false) {
      if (otherwise) this.stmt(otherwise, state, ctx);
      return;
    }
    const a = fork(state);
    if (then) this.stmt(then, a, ctx);
    const b = fork(state);
    if (otherwise) this.stmt(otherwise, b, ctx);
    merge(state, a, b);
  }

  private loop(node: Node, state: State, ctx: Ctx): void {
    const kind: string = node.kind() as string;
    if (kind === 'for_statement') {
      for (const init of node.fieldChildren('init')) {
        if (init.kind() === 'local_variable_declaration') this.localDeclaration(init, state);
        else this.expr(init, state);
      }
    }
    const condition = node.field('condition');
    if (kind !== 'do_statement' && this.cond(condition, state) === false) return;
    const body = node.field('body');
    const entry = fork(state);
    let current = fork(state);
    for (let i = 0; i < 2; i++) {
      if (body) this.stmt(body, current, ctx);
      current.broke = false;
      current.dead = false;
      if (kind === 'for_statement') for (const u of node.fieldChildren('update')) this.expr(u, current);
      if (condition) this.expr(condition, current);
      if (i === 0) current = joined(entry, current);
    }
    merge(state, kind === 'do_statement' ? current : entry, current);
  }

  private forEach(node: Node, state: State, ctx: Ctx): void {
    const iterable = node.field('value');
    const name = node.field('name')?.text();
    const type = simpleType(node.field('type')?.text() ?? '');
    const coll = iterable ? this.expr(iterable, state) : CLEAN;
    const elem = this.elementOf(coll);
    const entry = fork(state);
    let current = fork(state);
    for (let i = 0; i < 2; i++) {
      if (name) this.assign(name, elem, type, node.field('name') ?? node, current);
      const body = node.field('body');
      if (body) this.stmt(body, current, ctx);
      current.broke = false;
      current.dead = false;
      if (i === 0) current = joined(entry, current);
    }
    merge(state, entry, current);
  }

  private elementOf(coll: Val): Val {
    if (!coll.box) return coll.taints.length ? { taints: coll.taints } : CLEAN;
    const b = coll.box;
    return [...b.elems, ...b.keys.values(), b.rest].reduce((a, e) => join(a, e), coll.taints.length ? { taints: coll.taints } : CLEAN);
  }

  private switchValue(node: Node, state: State, ctx: Ctx): Val {
    const selector = node.field('condition');
    const sv = selector ? this.expr(selector, state) : CLEAN;
    const sel = sv.assumed ? undefined : sv.c;
    const body = node.field('body');
    const groups = body?.children().filter((c) => c.kind() === 'switch_block_statement_group' || c.kind() === 'switch_rule') ?? [];
    const labelsOf = (g: Node): { values: Const[]; isDefault: boolean } => {
      const values: Const[] = [];
      let isDefault = false;
      for (const l of g.children().filter((c) => c.kind() === 'switch_label')) {
        const exprs = l.children().filter((c) => c.isNamed());
        if (exprs.length === 0) isDefault = true;
        for (const e of exprs) values.push(this.expr(e, state).c ?? null);
      }
      if (g.children().some((c) => c.kind() === 'default')) isDefault = true;
      return { values, isDefault };
    };
    const results: Val[] = [];
    const run = (from: number, s: State): void => {
      for (let i = from; i < groups.length; i++) {
        const g = groups[i]!;
        if (g.kind() === 'switch_rule') {
          for (const c of g.children()) {
            if (c.kind() === 'switch_label' || !c.isNamed()) continue;
            if (c.kind() === 'expression_statement' || c.kind() === 'block' || c.kind() === 'throw_statement') this.stmt(c, s, ctx);
            else results.push(this.expr(c, s));
          }
          return;
        }
        for (const c of g.children()) {
          if (s.dead || s.broke) break;
          if (c.isNamed() && c.kind() !== 'switch_label') {
            if (c.kind() === 'yield_statement') {
              const e = c.children().find((x) => x.isNamed());
              if (e) results.push(this.expr(e, s));
              s.broke = true;
            } else this.stmt(c, s, ctx);
          }
        }
        if (s.dead || s.broke) return;
      }
    };
    const labels = groups.map(labelsOf);
    if (sel !== undefined && labels.every((l) => l.values.every((v) => v !== null))) {
      let idx = labels.findIndex((l) => l.values.some((v) => v === sel));
      if (idx < 0) idx = labels.findIndex((l) => l.isDefault);
      if (idx >= 0) {
        run(idx, state);
        state.broke = false;
      }
      return results.reduce((a, b) => join(a, b), CLEAN);
    }
    const outs: State[] = [];
    for (let i = 0; i < groups.length; i++) {
      const s = fork(state);
      run(i, s);
      s.broke = false;
      outs.push(s);
    }
    if (!labels.some((l) => l.isDefault)) outs.push(fork(state));
    const [first, ...rest] = outs;
    if (first) {
      let acc = first;
      for (const o of rest) acc = joined(acc, o);
      state.vars = acc.vars;
      state.dead = acc.dead;
    }
    return results.reduce((a, b) => join(a, b), CLEAN);
  }

  private tryStatement(node: Node, state: State, ctx: Ctx): void {
    const resources = node.children().find((c) => c.kind() === 'resource_specification');
    for (const r of resources?.children() ?? []) {
      if (r.kind() !== 'resource') continue;
      const name = r.field('name')?.text();
      const value = r.field('value');
      if (name && value) this.assign(name, this.expr(value, state), simpleType(r.field('type')?.text() ?? ''), r, state);
      else if (r.isNamed()) this.expr(r, state);
    }
    const body = node.field('body');
    const before = fork(state);
    if (body) this.block(body, state, ctx);
    const catches = node.children().filter((c) => c.kind() === 'catch_clause');
    for (const c of catches) {
      const s = joined(before, { ...fork(state), dead: false });
      const b = c.field('body');
      if (b) this.block(b, s, ctx);
      merge(state, state, s);
    }
    const fin = node.children().find((c) => c.kind() === 'finally_clause');
    const fb = fin?.children().find((c) => c.kind() === 'block');
    if (fb) {
      const wasDead = state.dead;
      state.dead = false;
      this.block(fb, state, ctx);
      state.dead = state.dead || wasDead;
    }
  }

  // ---- expressions ----

  private arrayInit(node: Node, state: State): Val {
    const elems = node.namedChildren().filter((c) => !NOT_ARGUMENT.has(c.kind() as string)).map((c) => (c.kind() === 'array_initializer' ? this.arrayInit(c, state) : this.expr(c, state)));
    return { taints: [], box: newContainer('array', elems) };
  }

  expr(node: Node, state: State): Val {
    const kind: string = node.kind() as string;
    switch (kind) {
      case 'string_literal':
      case 'text_block':
        return constant(unquote(node.text()), 'String');
      case 'character_literal':
        return constant(unquote(node.text()), 'char');
      case 'true':
        return constant(true);
      case 'false':
        return constant(false);
      case 'null_literal':
        return constant(null);
      case 'identifier': {
        const name = node.text();
        return state.vars.get(name) ?? this.fields.get(name) ?? (this.classes.has(name) ? { taints: [], type: name } : { taints: [], type: name });
      }
      case 'this':
        return CLEAN;
      case 'parenthesized_expression': {
        const inner = innerOf(node, 1);
        return inner ? this.expr(inner, state) : CLEAN;
      }
      case 'cast_expression': {
        const value = node.field('value');
        const v = value ? this.expr(value, state) : CLEAN;
        const t = simpleType(node.field('type')?.text() ?? '');
        if (/^(int|long|short|byte|double|float|boolean|char)$/.test(t)) return typeof v.c === 'number' ? constant(v.c) : CLEAN;
        return v;
      }
      case 'binary_expression':
        return this.binary(node, state);
      case 'unary_expression': {
        const operand = node.field('operand') ?? node.children().find((c) => c.isNamed());
        const v = operand ? this.expr(operand, state) : CLEAN;
        const op = node.field('operator')?.text() ?? node.child(0)?.text();
        if (op === '!' && typeof v.c === 'boolean') return constant(!v.c);
        if (op === '-' && typeof v.c === 'number') return constant(-v.c);
        return CLEAN;
      }
      case 'update_expression':
        return CLEAN;
      case 'ternary_expression': {
        const c = this.cond(node.field('condition'), state);
        const a = node.field('consequence');
        const b = node.field('alternative');
        if (c === true) return a ? this.expr(a, state) : CLEAN;
        if (c === false) return b ? this.expr(b, state) : CLEAN;
        return join(a ? this.expr(a, state) : CLEAN, b ? this.expr(b, state) : CLEAN);
      }
      case 'assignment_expression':
        return this.assignment(node, state);
      case 'method_invocation':
        return this.call(node, state);
      case 'object_creation_expression':
        return this.construct(node, state);
      case 'array_creation_expression': {
        const init = node.children().find((c) => c.kind() === 'array_initializer');
        return init ? this.arrayInit(init, state) : { taints: [], box: newContainer('array') };
      }
      case 'array_initializer':
        return this.arrayInit(node, state);
      case 'array_access': {
        const arr = node.field('array');
        const idx = node.field('index');
        const a = arr ? this.expr(arr, state) : CLEAN;
        const i = idx ? this.expr(idx, state) : CLEAN;
        if (a.box && typeof i.c === 'number' && !i.assumed && a.box.elems[i.c] !== undefined) return join(a.box.elems[i.c]!, a.box.rest);
        return this.elementOf(a);
      }
      case 'field_access': {
        const obj = node.field('object');
        const field = node.field('field')?.text() ?? '';
        if (obj?.kind() === 'this') return state.vars.get(field) ?? this.fields.get(field) ?? CLEAN;
        const o = obj ? this.expr(obj, state) : CLEAN;
        if (field === 'length') return CLEAN;
        return o.taints.length || o.box ? derive([o]) : this.fields.get(field) && obj && this.classes.has(obj.text()) ? this.fields.get(field)! : { taints: [], type: simpleType(node.text()) };
      }
      case 'lambda_expression':
      case 'method_reference':
      case 'class_literal':
      case 'instanceof_expression':
        return CLEAN;
      case 'switch_expression':
        return this.switchValue(node, state, { returns: [] });
      default:
        if (LITERAL_NUMBER.has(kind)) {
          const text = node.text().replace(/_/g, '').replace(/[lLfFdD]$/, '');
          const n = kind === 'decimal_floating_point_literal' ? parseFloat(text) : Number(text);
          return Number.isNaN(n) ? CLEAN : constant(n, kind === 'decimal_floating_point_literal' ? 'double' : 'int');
        }
        return CLEAN;
    }
  }

  private binary(node: Node, state: State): Val {
    // `left op right` is three children: one call for all of them, unless a comment sits in between.
    const cs = node.children();
    const three = cs.length === 3;
    const l = three ? cs[0]! : node.field('left');
    const r = three ? cs[2]! : node.field('right');
    const op = (three ? cs[1]!.text() : node.field('operator')?.text()) ?? '';
    const a = l ? this.expr(l, state) : CLEAN;
    // Short-circuit: a constant left side decides `&&`/`||` without evaluating the right.
    if (op === '&&' && a.c === false && !a.assumed) return constant(false);
    if (op === '||' && a.c === true && !a.assumed) return constant(true);
    const b = r ? this.expr(r, state) : CLEAN;
    const assumed = a.assumed || b.assumed;
    const folded = foldBinary(op, a, b);
    if (op === '+') {
      const isString = a.type === 'String' || b.type === 'String' || typeof a.c === 'string' || typeof b.c === 'string' || flatten(a).length > 0 || flatten(b).length > 0;
      const v = derive([a, b], undefined, isString ? 'String' : undefined);
      return folded === undefined ? v : { ...v, c: folded, ...(assumed ? { assumed } : {}) };
    }
    if (folded !== undefined) return { taints: [], c: folded, ...(assumed ? { assumed } : {}) };
    if (/^[-*/%&|^]$|^<<|^>>/.test(op)) return CLEAN;
    return CLEAN;
  }

  private assignment(node: Node, state: State): Val {
    const left = node.field('left');
    const right = node.field('right');
    const op = node.field('operator')?.text() ?? '=';
    if (!left || !right) return CLEAN;
    let v = right.kind() === 'array_initializer' ? this.arrayInit(right, state) : this.expr(right, state);
    if (op !== '=') {
      const old = this.expr(left, state);
      const folded = foldBinary(op.slice(0, -1), old, v);
      v = op === '+=' ? { ...derive([old, v], undefined, old.type), ...(folded !== undefined ? { c: folded } : {}) } : folded !== undefined ? constant(folded) : CLEAN;
    }
    if (left.kind() === 'identifier') {
      const prev = state.vars.get(left.text()) ?? this.fields.get(left.text());
      this.assign(left.text(), v, prev?.type, node, state);
    } else if (left.kind() === 'field_access' && left.field('object')?.kind() === 'this') {
      const name = left.field('field')?.text() ?? '';
      this.assign(name, v, undefined, node, state);
    } else if (left.kind() === 'array_access') {
      const arr = left.field('array');
      const idx = left.field('index');
      const a = arr ? this.expr(arr, state) : CLEAN;
      const i = idx ? this.expr(idx, state) : CLEAN;
      if (a.box) {
        if (typeof i.c === 'number' && !i.assumed) a.box.elems[i.c] = v;
        else a.box.rest = join(a.box.rest, v);
      }
    }
    return v;
  }

  /** Argument expressions: named children without comments, one kind read each. */
  private args(node: Node): Node[] {
    const out: Node[] = [];
    for (const c of node.field('arguments')?.namedChildren() ?? []) if (!NOT_ARGUMENT.has(c.kind() as string)) out.push(c);
    return out;
  }

  private construct(node: Node, state: State): Val {
    const type = simpleType(node.field('type')?.text() ?? '');
    const argNodes = this.args(node);
    const args = argNodes.map((a) => this.expr(a, state));
    // Anonymous class bodies are analysed as their own methods.
    this.engine.checkSinks({ constructorType: type }, undefined, args, argNodes, node, this);
    const source = this.engine.source({ constructorType: type }, node, this);
    if (source) return { ...source, type };
    if (LIST_TYPES.test(type)) {
      const box = newContainer('list');
      if (args[0]) box.rest = this.elementOf(args[0]);
      return { taints: [], box, type };
    }
    if (MAP_TYPES.test(type)) return { taints: [], box: newContainer('map'), type };
    if (BUILDER_TYPES.test(type)) {
      const box = newContainer('builder');
      if (args[0] && typeof args[0].c !== 'number') box.rest = derive([args[0]]);
      return { taints: [], box, type };
    }
    if (type === 'String' && args.length === 1 && args[0]?.c !== undefined) return { ...args[0], type: 'String' };
    const v = derive(args, undefined, type);
    return v;
  }

  /** The type name of a receiver expression, from declarations, constructors, static class names and hints. */
  private receiverType(obj: Node | null, v: Val): string | undefined {
    if (!obj) return undefined;
    if (v.type) return v.type;
    if (obj.kind() === 'identifier' || obj.kind() === 'field_access' || obj.kind() === 'scoped_identifier') return simpleType(obj.text());
    return undefined;
  }

  private call(node: Node, state: State): Val {
    const name = node.field('name')?.text() ?? '';
    const obj = node.field('object');
    const recv = obj ? this.expr(obj, state) : undefined;
    const recvType = recv ? this.receiverType(obj, recv) : undefined;
    const argNodes = this.args(node);
    const args = argNodes.map((a) => this.expr(a, state));
    const target = { method: name, receiverType: recvType };

    // Same-file methods, called directly.
    const local = this.localTargets(name, argNodes.length, obj, recv);
    if (local.length) {
      let out: Val = CLEAN;
      for (const m of local) out = join(out, this.engine.applySummary(this.summarise(m), args, node, this));
      return out;
    }

    this.engine.checkSinks(target, recv, args, argNodes, node, this);
    this.engine.checkConstant(target, args, argNodes, node, this);
    const source = this.engine.source(target, node, this);
    if (source) return source;
    const sanitizer = this.engine.sanitizer(target);
    if (sanitizer) return this.engine.sanitized(args, recv, sanitizer);
    const hinted = this.engine.returnType(target);

    const model = recv ? this.modelCall(name, recv, recvType, args, node) : undefined;
    if (model) return model;
    if (this.engine.isClean(name)) return constOf(name, recv, args);
    const c = constOf(name, recv, args);
    if (c.c !== undefined) return c;
    const parts = recv ? [recv, ...args] : args;
    // A method called on a class name (static) passes on its arguments; on an object, also the receiver.
    return derive(parts, undefined, hinted ?? (recv?.type === 'String' && STRING_RESULT.has(name) ? 'String' : undefined));
  }

  private localTargets(name: string, arity: number, obj: Node | null, recv: Val | undefined): Node[] {
    const candidates = this.methods.get(name);
    if (!candidates) return [];
    if (obj) {
      const k = obj.kind();
      const typeName = k === 'object_creation_expression' ? simpleType(obj.field('type')?.text() ?? '') : k === 'identifier' ? (recv?.type ?? obj.text()) : k === 'this' || k === 'super' ? undefined : recv?.type;
      if (k !== 'this' && k !== 'super' && (!typeName || !this.classes.has(typeName))) return [];
    }
    return candidates.filter((m) => {
      const shape = this.arityOf(m);
      return shape.count === arity || shape.varargs;
    });
  }

  private readonly arities = new Map<number, { count: number; varargs: boolean }>();

  private arityOf(m: Node): { count: number; varargs: boolean } {
    const id = m.id();
    const hit = this.arities.get(id);
    if (hit) return hit;
    const kinds = m.field('parameters')?.children().map((c) => c.kind() as string) ?? [];
    const shape = { count: kinds.filter((k) => k === 'formal_parameter' || k === 'spread_parameter').length, varargs: kinds.includes('spread_parameter') };
    this.arities.set(id, shape);
    return shape;
  }

  /** Collections and builders: track what goes in, and read back by index or key. */
  private modelCall(name: string, recv: Val, recvType: string | undefined, args: Val[], node: Node): Val | undefined {
    const box: Container | undefined = recv.box;
    if (recvType === 'Properties' && name === 'getProperty' && args.length === 2 && typeof args[1]?.c === 'string') {
      return { taints: recv.box ? this.elementOf(recv).taints : recv.taints, c: args[1].c, assumed: true, type: 'String' };
    }
    if (!box) return undefined;
    const key = (v: Val | undefined): string | undefined => (v && v.c !== undefined && !v.assumed ? String(v.c) : undefined);
    if (box.kind === 'builder') {
      if (name === 'append' || name === 'insert' || name === 'replace' || name === 'add') {
        const added = name === 'append' || name === 'add' ? args[0] : args[args.length - 1];
        if (added) box.rest = join(box.rest, flatten(added).length ? derive([added], this.step(node, `appended to ${recvType ?? 'builder'}`)) : CLEAN);
        return recv;
      }
      if (name === 'toString' || name === 'substring' || name === 'charAt') return derive([box.rest], undefined, 'String');
      if (name === 'setLength' || name === 'reverse' || name === 'deleteCharAt' || name === 'delete') return recv;
      return undefined;
    }
    if (box.kind === 'list' || box.kind === 'array') {
      switch (name) {
        case 'add':
        case 'addElement':
        case 'push':
        case 'offer':
        case 'addLast':
          if (args.length === 1) box.elems.push(args[0]!);
          else if (args.length === 2) {
            const i = args[0]?.c;
            if (typeof i === 'number' && !args[0]?.assumed) box.elems.splice(i, 0, args[1]!);
            else box.rest = join(box.rest, args[1]!);
          }
          return constant(true);
        case 'addAll':
          if (args[0]) box.rest = join(box.rest, this.elementOf(args[args.length - 1]!));
          return constant(true);
        case 'set': {
          const i = args[0]?.c;
          if (typeof i === 'number' && args[1]) box.elems[i] = args[1];
          else if (args[1]) box.rest = join(box.rest, args[1]);
          return CLEAN;
        }
        case 'get':
        case 'elementAt':
        case 'remove': {
          const i = args[0]?.c;
          if (typeof i === 'number' && !args[0]?.assumed && i < box.elems.length && box.rest.taints.length === 0) {
            const v = box.elems[i]!;
            if (name === 'remove') box.elems.splice(i, 1);
            return v;
          }
          return this.elementOf(recv);
        }
        case 'clear':
          box.elems = [];
          box.rest = CLEAN;
          return CLEAN;
        case 'iterator':
        case 'stream':
        case 'toArray':
        case 'subList':
        case 'listIterator':
          return { taints: flatten(recv) };
        case 'next':
        case 'pop':
        case 'peek':
        case 'poll':
        case 'getFirst':
        case 'getLast':
        case 'firstElement':
        case 'lastElement':
          return this.elementOf(recv);
        default:
          return undefined;
      }
    }
    if (box.kind === 'map') {
      switch (name) {
        case 'put':
        case 'setProperty':
        case 'putIfAbsent': {
          const k = key(args[0]);
          const val = args[1] ?? CLEAN;
          if (k !== undefined) box.keys.set(k, name === 'putIfAbsent' ? join(box.keys.get(k) ?? CLEAN, val) : val);
          else box.rest = join(box.rest, join(val, args[0] ?? CLEAN));
          return CLEAN;
        }
        case 'get':
        case 'getProperty':
        case 'getOrDefault':
        case 'remove': {
          const k = key(args[0]);
          if (k !== undefined) {
            const hit = box.keys.get(k);
            const fallback = name === 'getOrDefault' || name === 'getProperty' ? (args[1] ?? CLEAN) : CLEAN;
            const v = join(hit ?? fallback, box.rest);
            if (name === 'remove') box.keys.delete(k);
            return v;
          }
          return this.elementOf(recv);
        }
        case 'putAll':
          if (args[0]) box.rest = join(box.rest, this.elementOf(args[0]));
          return CLEAN;
        case 'values':
        case 'entrySet':
        case 'keySet':
        case 'forEach':
          return { taints: flatten(recv) };
        default:
          return undefined;
      }
    }
    return undefined;
  }
}

interface Ctx {
  readonly returns: Val[];
}

export type { Ctx, State };

const STRING_RESULT = new Set(['toString', 'trim', 'strip', 'substring', 'toLowerCase', 'toUpperCase', 'replace', 'replaceAll', 'concat', 'intern', 'valueOf', 'format', 'join', 'repeat']);

/**
 * The expression of a statement or parentheses: the child at its usual position, one call instead of a scan,
 * unless something unusual (a comment) sits there; `undefined` for `return;`.
 */
function innerOf(node: Node, at: number): Node | undefined {
  const c = node.child(at);
  const k = c?.kind();
  if (c && k !== 'line_comment' && k !== 'block_comment') return k === ';' ? undefined : c;
  return node.children().find((x) => x.isNamed() && x.kind() !== 'line_comment' && x.kind() !== 'block_comment');
}

/** Calls on constant strings that fold (`"ABC".charAt(1)`, `s.equals("x")`), so selectors and conditions fold. */
function constOf(name: string, recv: Val | undefined, args: Val[]): Val {
  const s = recv?.c;
  if (typeof s !== 'string' || recv?.assumed || args.some((a) => a.c === undefined || a.assumed)) return CLEAN;
  const a0 = args[0]?.c;
  const a1 = args[1]?.c;
  switch (name) {
    case 'charAt':
      return typeof a0 === 'number' && a0 < s.length ? constant(s.charAt(a0), 'char') : CLEAN;
    case 'length':
      return constant(s.length);
    case 'equals':
      return constant(s === a0);
    case 'equalsIgnoreCase':
      return typeof a0 === 'string' ? constant(s.toLowerCase() === a0.toLowerCase()) : CLEAN;
    case 'isEmpty':
      return constant(s.length === 0);
    case 'contains':
      return typeof a0 === 'string' ? constant(s.includes(a0)) : CLEAN;
    case 'startsWith':
      return typeof a0 === 'string' ? constant(s.startsWith(a0)) : CLEAN;
    case 'endsWith':
      return typeof a0 === 'string' ? constant(s.endsWith(a0)) : CLEAN;
    case 'indexOf':
      return typeof a0 === 'string' ? constant(s.indexOf(a0)) : CLEAN;
    case 'toUpperCase':
      return constant(s.toUpperCase(), 'String');
    case 'toLowerCase':
      return constant(s.toLowerCase(), 'String');
    case 'trim':
      return constant(s.trim(), 'String');
    case 'substring':
      return typeof a0 === 'number' && (a1 === undefined || typeof a1 === 'number') ? constant(s.substring(a0, a1), 'String') : CLEAN;
    default:
      return CLEAN;
  }
}
