/**
 * JavaScript and TypeScript rewrites: driver placeholders (`pg` `$1`, mysql/sqlite/knex `?`), execFile with an
 * argument array instead of a shell, no `shell: true`, and TLS verification left on.
 */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { commandArgv, type CommandPart } from './command.ts';
import { parameteriseSql, type SqlPart } from './sql-text.ts';
import { ancestor, insertAt, nodeAt, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

const FUNCTIONS = ['function_declaration', 'function_expression', 'arrow_function', 'method_definition', 'generator_function_declaration'];

interface JsText {
  readonly parts: SqlPart[];
  readonly quote: string;
}

function argList(call: SgNode): SgNode[] {
  return call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'comment') ?? [];
}

/** Literal and value pieces of string literals, templates and `+` chains of them. */
function textParts(node: SgNode): JsText | undefined {
  switch (node.kind()) {
    case 'string': {
      const text = node.text();
      return { parts: [{ literal: text.slice(1, -1) }], quote: text[0] as string };
    }
    case 'template_string': {
      const parts: SqlPart[] = [];
      const source = node.text();
      const base = node.range().start.index;
      let cursor = 1;
      for (const child of node.children()) {
        if (child.kind() !== 'template_substitution') continue;
        const expression = child.children().find((c) => c.isNamed());
        if (!expression) return undefined;
        parts.push({ literal: source.slice(cursor, child.range().start.index - base) }, { value: expression.text() });
        cursor = child.range().end.index - base;
      }
      parts.push({ literal: source.slice(cursor, -1) });
      return { parts, quote: '`' };
    }
    case 'parenthesized_expression': {
      const inner = node.children().find((c) => c.isNamed());
      return inner ? textParts(inner) : undefined;
    }
    case 'binary_expression': {
      if (node.field('operator')?.text() !== '+') return undefined;
      const left = node.field('left');
      const right = node.field('right');
      if (!left || !right) return undefined;
      const side = (n: SgNode): JsText | undefined => textParts(n) ?? (n.kind() === 'binary_expression' ? undefined : { parts: [{ value: n.text() }], quote: '' });
      const l = side(left);
      const r = side(right);
      return l && r ? { parts: [...l.parts, ...r.parts], quote: l.quote || r.quote } : undefined;
    }
    default:
      return undefined;
  }
}

/** A literal in the text's quote; undefined when the joined text would need re-escaping for that quote. */
function render(quote: string, body: string): string | undefined {
  const q = quote || "'";
  if (q !== '`' && new RegExp(`(^|[^\\\\])${q}`).test(body)) return undefined;
  if (q === '`' && /(^|[^\\])\$\{/.test(body)) return undefined;
  return `${q}${body}${q}`;
}

/** The single declaration of a local const/let that only this call reads. */
function declaredValue(call: SgNode, name: string): SgNode | undefined {
  const scope = ancestor(call, FUNCTIONS) ?? call.getRoot().root();
  const declarators = scope.findAll({ rule: { kind: 'variable_declarator', has: { field: 'name', regex: `^${name}$` } } });
  const reassigned = scope.findAll({ rule: { any: [{ kind: 'assignment_expression' }, { kind: 'augmented_assignment_expression' }], has: { field: 'left', regex: `^${name}$` } } });
  const uses = scope.findAll({ rule: { kind: 'identifier', regex: `^${name}$` } });
  if (declarators.length !== 1 || reassigned.length > 0 || uses.length !== 2) return undefined;
  return declarators[0]?.field('value') ?? undefined;
}

// --- SQL -----------------------------------------------------------------------------------------------------

const KNEX_RAW = /^(raw|whereRaw|orWhereRaw|havingRaw|joinRaw)$/;

function imported(source: string, module: string): boolean {
  return new RegExp(`(?:require\\(\\s*|from\\s+|import\\s+)['"](?:node:)?${module}['"]`).test(source);
}

function placeholderStyle(ctx: RewriteContext, method: string): ((n: number) => string) | undefined {
  if (KNEX_RAW.test(method)) return () => '?';
  if (imported(ctx.source, 'pg') || imported(ctx.source, 'postgres') || imported(ctx.source, 'pg-promise')) return (n) => `$${n}`;
  if (['mysql', 'mysql2', 'mysql2/promise', 'sqlite3', 'better-sqlite3', 'sqlite'].some((m) => imported(ctx.source, m))) return () => '?';
  return undefined;
}

function parameterisedSql(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  const fn = call?.field('function');
  const method = fn?.kind() === 'member_expression' ? (fn.field('property')?.text() ?? '') : '';
  const args = call ? argList(call) : [];
  const first = args[0];
  if (!call || !first || !/^(query|execute|raw|whereRaw|orWhereRaw|havingRaw|joinRaw)$/.test(method)) return undefined;
  // A second argument that is already a value list (or knex bindings) leaves no place for ours.
  if (args[1] && !['arrow_function', 'function_expression', 'function', 'identifier'].includes(args[1].kind() as string)) return undefined;
  if (args[1]?.kind() === 'identifier' && !/^(cb|callback|done|next)$/i.test(args[1].text())) return undefined;
  const style = placeholderStyle(ctx, method);
  if (!style) return undefined;
  const target = first.kind() === 'identifier' ? declaredValue(call, first.text()) : first;
  const text = target ? textParts(target) : undefined;
  if (!target || !text || !text.parts.some((p) => 'value' in p)) return undefined;
  const sql = parameteriseSql(text.parts, style, style(1) === '?' ? /\?/g : /\$\d+/g);
  const literal = sql ? render(text.quote, sql.text) : undefined;
  if (!sql || !literal) return undefined;
  const values = `[${sql.values.join(', ')}]`;
  const description = 'Pass the values as query parameters instead of building them into the SQL text.';
  const edits: Edit[] = [replaceNode(ctx.source, target, literal), insertAt(ctx.source, first.range().end.index, `, ${values}`)];
  if (target === first) return { description, edits: [replaceNode(ctx.source, first, `${literal}, ${values}`)] };
  return { description, edits };
}

// --- commands ------------------------------------------------------------------------------------------------

/** Adds `execFile`/`execFileSync` to the destructured require or named import that brought in `exec`. */
function bringIntoScope(ctx: RewriteContext, from: string, to: string): Edit | undefined | null {
  const bindings = ctx.root
    .root()
    .findAll({ rule: { any: [{ kind: 'shorthand_property_identifier_pattern' }, { kind: 'import_specifier' }], regex: `^${from}$` } });
  if (new RegExp(`\\b${to}\\b`).test(ctx.source.replace(/\/\/.*$/gm, ''))) {
    const has = ctx.root.root().findAll({ rule: { any: [{ kind: 'shorthand_property_identifier_pattern' }, { kind: 'import_specifier' }], regex: `^${to}$` } });
    if (has.length > 0) return null;
  }
  const binding = bindings[0];
  if (!binding || bindings.length !== 1) return undefined;
  return insertAt(ctx.source, binding.range().end.index, `, ${to}`);
}

function execFileInstead(ctx: RewriteContext, call: SgNode): Rewrite | undefined {
  const fn = call.field('function');
  const args = argList(call);
  const first = args[0];
  if (!fn || !first) return undefined;
  const name = fn.kind() === 'member_expression' ? (fn.field('property')?.text() ?? '') : fn.text();
  if (name !== 'exec' && name !== 'execSync') return undefined;
  const text = textParts(first);
  const tokens = text ? commandArgv(text.parts.map((p): CommandPart => ('literal' in p ? { literal: p.literal } : { value: p.value }))) : undefined;
  if (!text || !tokens) return undefined;
  const q = text.quote === '"' ? '"' : "'";
  const words = tokens.map((t) => ('literal' in t ? `${q}${t.literal}${q}` : t.value));
  const replacement = name === 'exec' ? 'execFile' : 'execFileSync';
  const edits: Edit[] = [replaceNode(ctx.source, first, `${words[0]}, [${words.slice(1).join(', ')}]`)];
  if (fn.kind() === 'member_expression') {
    const property = fn.field('property');
    if (!property) return undefined;
    edits.push(replaceNode(ctx.source, property, replacement));
  } else {
    const scope = bringIntoScope(ctx, name, replacement);
    if (scope === undefined) return undefined;
    if (scope) edits.push(scope);
    edits.push(replaceNode(ctx.source, fn, replacement));
  }
  return { description: `Run the program with ${replacement} and an argument array, without a shell.`, edits };
}

function noShellOption(ctx: RewriteContext, call: SgNode): Rewrite | undefined {
  const pair = argList(call)
    .filter((a) => a.kind() === 'object')
    .flatMap((o) => o.children().filter((p) => p.kind() === 'pair' && /^['"]?shell['"]?$/.test(p.field('key')?.text() ?? '')))
    .find((p) => p.field('value')?.text() === 'true');
  const value = pair?.field('value');
  return value ? { description: 'Run the program directly, not through a shell.', edits: [replaceNode(ctx.source, value, 'false')] } : undefined;
}

function command(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  if (!call) return undefined;
  return execFileInstead(ctx, call) ?? noShellOption(ctx, call);
}

// --- TLS -----------------------------------------------------------------------------------------------------

function tlsEnv(ctx: RewriteContext): Rewrite | undefined {
  const assignment = nodeAt(ctx.root, ctx.finding.location, ['assignment_expression']);
  const right = assignment?.field('right');
  if (!right || !/NODE_TLS_REJECT_UNAUTHORIZED/.test(assignment?.field('left')?.text() ?? '')) return undefined;
  const quote = /^["'`]/.test(right.text()) ? (right.text()[0] as string) : "'";
  return { description: 'Leave TLS certificate verification on.', edits: [replaceNode(ctx.source, right, `${quote}1${quote}`)] };
}

export const javascriptFixers: readonly FixerEntry[] = [
  { ruleIds: ['javascript.sql-injection', 'javascript.taint.sql-injection'], fix: parameterisedSql },
  { ruleIds: ['javascript.command-injection', 'javascript.spawn-shell', 'javascript.taint.command-injection'], fix: command },
  { ruleIds: ['javascript.tls-reject-unauthorized-env'], fix: tlsEnv },
];
