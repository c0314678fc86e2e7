/**
 * Python rewrites: DB-API and SQLAlchemy parameters, argument lists instead of a shell, escaped HTML, strong
 * hashes, verified TLS contexts, safe XML parser settings and the Flask debugger off.
 */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { commandArgv, type CommandPart } from './command.ts';
import { parameteriseSql, type SqlPart } from './sql-text.ts';
import { addImport, ancestor, insertAt, nodeAt, removeListItem, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

const IMPORT_KINDS = ['import_statement', 'import_from_statement', 'future_import_statement'];

interface PyText {
  readonly parts: SqlPart[];
  /** Prefix without `f` (e.g. `r`) and the quote of the first string. */
  readonly prefix: string;
  readonly quote: string;
}

function argList(call: SgNode): SgNode[] {
  return call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'comment') ?? [];
}

function positional(call: SgNode): SgNode[] {
  return argList(call).filter((a) => a.kind() !== 'keyword_argument' && a.kind() !== 'list_splat' && a.kind() !== 'dictionary_splat');
}

function keyword(call: SgNode, name: string): SgNode | undefined {
  return argList(call).find((a) => a.kind() === 'keyword_argument' && a.field('name')?.text() === name);
}

/** A string literal's pieces: literal text (source escapes kept) and f-string interpolations as values. */
function stringParts(node: SgNode, source: string): PyText | undefined {
  const children = node.children();
  const start = children[0];
  const end = children[children.length - 1];
  if (!start || !end || start.kind() !== 'string_start' || end.kind() !== 'string_end') return undefined;
  const opening = start.text();
  const letters = /^[a-zA-Z]*/.exec(opening)?.[0] ?? '';
  if (/b/i.test(letters)) return undefined;
  const isF = /f/i.test(letters);
  const unescape = (t: string) => (isF ? t.replace(/\{\{/g, '{').replace(/\}\}/g, '}') : t);
  const parts: SqlPart[] = [];
  let cursor = start.range().end.index;
  for (const child of children) {
    if (child.kind() !== 'interpolation') continue;
    const expression = child.field('expression');
    if (!expression || child.children().some((c) => c.kind() === 'format_specifier' || c.kind() === 'type_conversion')) return undefined;
    parts.push({ literal: unescape(source.slice(cursor, child.range().start.index)) }, { value: expression.text() });
    cursor = child.range().end.index;
  }
  parts.push({ literal: unescape(source.slice(cursor, end.range().start.index)) });
  return { parts, prefix: letters.replace(/f/gi, ''), quote: opening.slice(letters.length) };
}

/** `%s`-style format text plus its operands as parts; `%%` becomes `%`. */
function percentParts(text: PyText, operands: SgNode): SqlPart[] | undefined {
  const values = operands.kind() === 'tuple' ? operands.children().filter((c) => c.isNamed()).map((c) => c.text()) : [operands.text()];
  if (operands.kind() === 'dictionary' || text.parts.length !== 1) return undefined;
  const literal = (text.parts[0] as { literal: string }).literal;
  const parts: SqlPart[] = [];
  let last = 0;
  let used = 0;
  for (const m of literal.matchAll(/%(%|[sdifr])|%\(/g)) {
    if (m[0] === '%(') return undefined;
    if (m[1] === '%') continue;
    const value = values[used++];
    if (value === undefined) return undefined;
    parts.push({ literal: literal.slice(last, m.index).replace(/%%/g, '%') }, { value });
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push({ literal: literal.slice(last).replace(/%%/g, '%') });
  return used === values.length ? parts : undefined;
}

/** `"...{}...".format(a)` with positional fields only. */
function formatParts(text: PyText, call: SgNode): SqlPart[] | undefined {
  const values = argList(call).map((a) => (a.kind() === 'keyword_argument' ? undefined : a.text()));
  if (values.some((v) => v === undefined) || text.parts.length !== 1) return undefined;
  const literal = (text.parts[0] as { literal: string }).literal;
  const parts: SqlPart[] = [];
  let last = 0;
  let next = 0;
  for (const m of literal.matchAll(/\{\{|\}\}|\{(\d*)\}|\{[^}]*\}/g)) {
    if (m[0] === '{{' || m[0] === '}}') continue;
    if (m[1] === undefined) return undefined;
    const value = values[m[1] === '' ? next++ : Number(m[1])];
    if (value === undefined) return undefined;
    parts.push({ literal: literal.slice(last, m.index).replace(/\{\{/g, '{').replace(/\}\}/g, '}') }, { value });
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push({ literal: literal.slice(last).replace(/\{\{/g, '{').replace(/\}\}/g, '}') });
  return parts;
}

/** Text assembled from literals and values: f-strings, `+`, `%` and `.format`. */
function textParts(node: SgNode, source: string): PyText | undefined {
  switch (node.kind()) {
    case 'string':
      return stringParts(node, source);
    case 'parenthesized_expression': {
      const inner = node.children().find((c) => c.isNamed());
      return inner ? textParts(inner, source) : undefined;
    }
    case 'binary_operator': {
      const op = node.field('operator')?.text();
      const left = node.field('left');
      const right = node.field('right');
      if (!left || !right) return undefined;
      if (op === '%') {
        const text = left.kind() === 'string' ? stringParts(left, source) : undefined;
        const parts = text ? percentParts(text, right) : undefined;
        return text && parts ? { ...text, parts } : undefined;
      }
      if (op !== '+') return undefined;
      const l = textParts(left, source) ?? (left.kind() === 'binary_operator' ? undefined : { parts: [{ value: left.text() }], prefix: '', quote: '' });
      const r = textParts(right, source) ?? (right.kind() === 'binary_operator' ? undefined : { parts: [{ value: right.text() }], prefix: '', quote: '' });
      if (!l || !r) return undefined;
      const quote = l.quote || r.quote;
      if (l.quote && r.quote && (l.quote !== r.quote || l.prefix !== r.prefix)) return undefined;
      return { parts: [...l.parts, ...r.parts], prefix: l.prefix || r.prefix, quote };
    }
    case 'call': {
      const fn = node.field('function');
      if (fn?.kind() !== 'attribute' || fn.field('attribute')?.text() !== 'format') return undefined;
      const object = fn.field('object');
      const text = object?.kind() === 'string' ? stringParts(object, source) : undefined;
      const parts = text ? formatParts(text, node) : undefined;
      return text && parts ? { ...text, parts } : undefined;
    }
    default:
      return undefined;
  }
}

function literal(text: PyText, body: string): string {
  return `${text.prefix}${text.quote}${body}${text.quote}`;
}

/** The single assignment of a local name in the enclosing function (or module), when only this call reads it. */
function assignedValue(at: SgNode, name: string, sinkPattern: RegExp): SgNode | undefined {
  const scope = ancestor(at, ['function_definition']) ?? at.getRoot().root();
  const assignments = scope.findAll({ rule: { kind: 'assignment', has: { field: 'left', regex: `^${name}$` } } });
  const augmented = scope.findAll({ rule: { kind: 'augmented_assignment', has: { field: 'left', regex: `^${name}$` } } });
  const otherSinks = scope
    .findAll({ rule: { kind: 'identifier', regex: `^${name}$`, inside: { kind: 'argument_list', inside: { kind: 'call', has: { field: 'function', regex: sinkPattern.source } } } } })
    .filter((n) => n.parent()?.parent()?.range().start.index !== at.range().start.index);
  if (assignments.length !== 1 || augmented.length > 0 || otherSinks.length > 0) return undefined;
  return assignments[0]?.field('right') ?? undefined;
}

// --- SQL -----------------------------------------------------------------------------------------------------

type Style = { placeholder: (n: number) => string; escapePercent: boolean };

const QMARK: Style = { placeholder: () => '?', escapePercent: false };
const FORMAT: Style = { placeholder: () => '%s', escapePercent: true };

/**
 * The driver's placeholder style: from the driver's import when the file has it, else from the parameterised
 * execute calls the file already makes (`execute("... %s", (v,))`).
 */
function driverStyle(ctx: RewriteContext): Style | undefined {
  if (/^\s*(?:import|from)\s+(?:sqlite3|aiosqlite)\b/m.test(ctx.source)) return QMARK;
  if (/^\s*(?:import|from)\s+(?:psycopg2?|pymysql|MySQLdb|mysql\.connector|aiomysql|pgdb)\b/m.test(ctx.source)) return FORMAT;
  const bound = ctx.root
    .root()
    .findAll({ rule: { kind: 'call', has: { field: 'function', regex: '\\.execute$' } } })
    .map((c) => positional(c))
    .filter((a) => a.length === 2 && a[0]?.kind() === 'string' && ['tuple', 'list'].includes(a[1]?.kind() as string))
    .map((a) => a[0]?.text() ?? '');
  const format = bound.some((t) => /%s/.test(t));
  const qmark = bound.some((t) => /\?/.test(t));
  if (format !== qmark) return format ? FORMAT : QMARK;
  return undefined;
}

const SQL_SINK = /\.(execute|executemany|executescript|raw|text)$|^(sqlalchemy\.)?text$/;

function parameterisedSql(ctx: RewriteContext): Rewrite | undefined {
  let call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  // A finding on text(...) is fixed at the execute call that runs it.
  if (call && /^(sqlalchemy\.)?text$/.test(call.field('function')?.text() ?? '')) call = call.parent()?.parent() ?? undefined;
  const fn = call?.kind() === 'call' ? call.field('function') : undefined;
  if (!call || fn?.kind() !== 'attribute' || fn.field('attribute')?.text() !== 'execute') return undefined;
  const args = argList(call);
  const first = args[0];
  if (args.length !== 1 || !first) return undefined;
  const description = 'Pass the values as bound query parameters instead of formatting them into the SQL text.';

  // SQLAlchemy: execute(text("... " + v)) → execute(text("... :p1"), {"p1": v}).
  const textFn = first.kind() === 'call' ? first.field('function')?.text() : undefined;
  if (textFn === 'text' || textFn === 'sqlalchemy.text') {
    const inner = positional(first)[0];
    const text = inner ? textParts(inner, ctx.source) : undefined;
    if (!inner || !text || argList(first).length !== 1) return undefined;
    const sql = parameteriseSql(text.parts, (n) => `:p${n}`);
    if (!sql) return undefined;
    const binds = sql.values.map((v, i) => `${text.quote.slice(0, 1) || '"'}p${i + 1}${text.quote.slice(0, 1) || '"'}: ${v}`).join(', ');
    return { description, edits: [replaceNode(ctx.source, inner, literal(text, sql.text)), insertAt(ctx.source, first.range().end.index, `, {${binds}}`)] };
  }

  const style = driverStyle(ctx);
  if (!style) return undefined;
  let target = first;
  if (first.kind() === 'identifier') {
    const value = assignedValue(call, first.text(), SQL_SINK);
    if (!value) return undefined;
    target = value;
  }
  const text = textParts(target, ctx.source);
  if (!text || !text.parts.some((p) => 'value' in p)) return undefined;
  const parts = style.escapePercent ? text.parts.map((p) => ('literal' in p ? { literal: p.literal.replace(/%/g, '%%') } : p)) : text.parts;
  const sql = parameteriseSql(parts, style.placeholder, style.escapePercent ? undefined : /\?/g);
  if (!sql) return undefined;
  const tuple = `(${sql.values.join(', ')}${sql.values.length === 1 ? ',' : ''})`;
  const text2 = literal(text, sql.text);
  if (target === first) return { description, edits: [replaceNode(ctx.source, first, `${text2}, ${tuple}`)] };
  return { description, edits: [replaceNode(ctx.source, target, text2), insertAt(ctx.source, first.range().end.index, `, ${tuple}`)] };
}

// --- commands ------------------------------------------------------------------------------------------------

/** The command as a Python list literal, or `shlex.split(...)` of a variable holding it. */
function argv(node: SgNode, source: string): { text: string; shlex: boolean } | undefined {
  if (node.kind() === 'identifier') return { text: `shlex.split(${node.text()})`, shlex: true };
  const text = textParts(node, source);
  if (!text) return undefined;
  const parts: CommandPart[] = text.parts.map((p) => ('literal' in p ? { literal: p.literal } : { value: p.value }));
  const tokens = commandArgv(parts);
  if (!tokens) return undefined;
  const q = text.quote.length === 1 ? text.quote : '"';
  return { text: `[${tokens.map((t) => ('literal' in t ? `${text.prefix}${q}${t.literal}${q}` : t.value)).join(', ')}]`, shlex: false };
}

function imports(ctx: RewriteContext, names: readonly string[]): Edit[] {
  return names
    .map((name) => addImport(ctx.source, ctx.root, `import ${name}`, IMPORT_KINDS, new RegExp(`^import\\s+(?:[\\w.]+\\s*,\\s*)*${name}\\b`, 'm')))
    .filter((e): e is Edit => e !== undefined);
}

function osCommand(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  const fn = call?.field('function')?.text();
  const first = call ? positional(call)[0] : undefined;
  if (!call || !first || argList(call).length !== 1 || (fn !== 'os.system' && fn !== 'os.popen')) return undefined;
  const command = argv(first, ctx.source);
  if (!command) return undefined;
  const description = 'Run the program with an argument list through subprocess, without a shell.';
  const needed = command.shlex ? ['subprocess', 'shlex'] : ['subprocess'];
  if (fn === 'os.system') return { description, edits: [replaceNode(ctx.source, call, `subprocess.call(${command.text})`), ...imports(ctx, needed)] };
  // os.popen(cmd).read() → the captured standard output.
  const reader = call.parent();
  const readCall = reader?.parent();
  if (reader?.kind() !== 'attribute' || reader.field('attribute')?.text() !== 'read' || readCall?.kind() !== 'call' || argList(readCall).length !== 0) return undefined;
  return { description, edits: [replaceNode(ctx.source, readCall, `subprocess.run(${command.text}, capture_output=True, text=True).stdout`), ...imports(ctx, needed)] };
}

function subprocessWithoutShell(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  const shell = call ? keyword(call, 'shell') : undefined;
  const first = call ? positional(call)[0] : undefined;
  if (!call || !shell || !first || shell.field('value')?.text() !== 'True') return undefined;
  const command = argv(first, ctx.source);
  if (!command) return undefined;
  return {
    description: 'Pass the command as an argument list and drop shell=True.',
    edits: [replaceNode(ctx.source, first, command.text), removeListItem(ctx.source, shell), ...(command.shlex ? imports(ctx, ['shlex']) : [])],
  };
}

// --- crypto, TLS, XML, debug ---------------------------------------------------------------------------------

function hashNew(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  const first = call ? positional(call)[0] : undefined;
  if (!first || first.kind() !== 'string') return undefined;
  const quote = /["']/.exec(first.text())?.[0] ?? '"';
  return { description: 'Use SHA-256.', edits: [replaceNode(ctx.source, first, `${quote}sha256${quote}`)] };
}

function verifiedTls(ctx: RewriteContext): Rewrite | undefined {
  const node = nodeAt(ctx.root, ctx.finding.location, ['call', 'assignment']);
  if (!node) return undefined;
  const description = 'Verify certificates and host names with the default TLS context.';
  if (node.kind() === 'call') {
    const fn = node.field('function');
    if (!fn || !/(^|\.)_create_unverified_context$/.test(fn.text())) return undefined;
    return { description, edits: [replaceNode(ctx.source, fn, fn.text().replace(/_create_unverified_context$/, 'create_default_context'))] };
  }
  const left = node.field('left')?.text() ?? '';
  const right = node.field('right');
  if (!right) return undefined;
  if (/\.check_hostname$/.test(left) && right.text() === 'False') return { description, edits: [replaceNode(ctx.source, right, 'True')] };
  if (/\.verify_mode$/.test(left) && /(^|\.)CERT_(NONE|OPTIONAL)$/.test(right.text())) return { description, edits: [replaceNode(ctx.source, right, right.text().replace(/CERT_(NONE|OPTIONAL)$/, 'CERT_REQUIRED'))] };
  return undefined;
}

const XML_UNSAFE: Record<string, [string, string]> = { resolve_entities: ['True', 'False'], no_network: ['False', 'True'], load_dtd: ['True', 'False'] };

function safeXml(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  if (!call) return undefined;
  const description = 'Do not resolve external entities or fetch DTDs.';
  if (/\.setFeature$/.test(call.field('function')?.text() ?? '')) {
    const flag = positional(call)[1];
    return flag && /^(True|1)$/.test(flag.text()) ? { description, edits: [replaceNode(ctx.source, flag, 'False')] } : undefined;
  }
  const edits = argList(call).flatMap((a) => {
    const name = a.kind() === 'keyword_argument' ? a.field('name')?.text() : undefined;
    const value = a.field('value');
    const swap = name ? XML_UNSAFE[name] : undefined;
    return swap && value && value.text() === swap[0] ? [replaceNode(ctx.source, value, swap[1])] : [];
  });
  return edits.length > 0 ? { description, edits } : undefined;
}

function debugOff(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call']);
  const value = call ? keyword(call, 'debug')?.field('value') : undefined;
  return value?.text() === 'True' ? { description: 'Turn the debugger off.', edits: [replaceNode(ctx.source, value, 'False')] } : undefined;
}

// --- XSS -----------------------------------------------------------------------------------------------------

/** Literal text for a str.format template: braces doubled. */
function formatTemplate(parts: readonly SqlPart[]): string {
  return parts.map((p) => ('literal' in p ? p.literal.replace(/\{/g, '{{').replace(/\}/g, '}}') : '{}')).join('');
}

/**
 * HTML assembled from values: `mark_safe(...)` becomes Django's `format_html` and `Markup(...)` becomes
 * `Markup(template).format(...)`, both of which escape the values; a response or returned string gets each value
 * through `html.escape`.
 */
function escapedHtml(ctx: RewriteContext): Rewrite | undefined {
  const node = nodeAt(ctx.root, ctx.finding.location, ['call', 'return_statement']);
  if (!node) return undefined;
  const description = 'Escape the values that go into the HTML.';
  if (node.kind() === 'call') {
    const fn = node.field('function')?.text() ?? '';
    const first = positional(node)[0];
    const text = first ? textParts(first, ctx.source) : undefined;
    if (!first || !text || argList(node).length !== 1 || !text.parts.some((p) => 'value' in p)) return undefined;
    const values = text.parts.flatMap((p) => ('value' in p ? [p.value] : []));
    const template = literal(text, formatTemplate(text.parts));
    if (fn === 'mark_safe') {
      const edits = [replaceNode(ctx.source, node, `format_html(${[template, ...values].join(', ')})`)];
      const add = addImport(ctx.source, ctx.root, 'from django.utils.html import format_html', IMPORT_KINDS, /^from\s+django\.utils\.html\s+import\s+(?:.*\b)?format_html\b/m);
      return { description, edits: add ? [...edits, add] : edits };
    }
    if (fn === 'Markup' || fn === 'markupsafe.Markup') return { description, edits: [replaceNode(ctx.source, node, `${fn}(${template}).format(${values.join(', ')})`)] };
    if (/^(HttpResponse|make_response|Response)$/.test(fn)) return escapeValues(ctx, first, text, description);
    return undefined;
  }
  const value = node.children().find((c) => c.isNamed());
  const text = value ? textParts(value, ctx.source) : undefined;
  return value && text ? escapeValues(ctx, value, text, description) : undefined;
}

function escapeValues(ctx: RewriteContext, node: SgNode, text: PyText, description: string): Rewrite | undefined {
  if (!text.parts.some((p) => 'value' in p) || text.prefix.includes('r')) return undefined;
  // An f-string keeps its shape; other forms become one, so every value sits where it was.
  const body = text.parts.map((p) => ('literal' in p ? p.literal.replace(/\{/g, '{{').replace(/\}/g, '}}') : `{html.escape(str(${p.value}))}`)).join('');
  if (/\\/.test(body.replace(/\\[nt\\]/g, ''))) return undefined;
  // Before Python 3.12 an f-string cannot reuse its own quote inside a replacement field.
  const quote = [text.quote, text.quote === '"' ? "'" : text.quote === "'" ? '"' : text.quote].find((q) => !body.includes(q));
  if (!quote) return undefined;
  const edits: Edit[] = [replaceNode(ctx.source, node, `f${quote}${body}${quote}`)];
  const add = addImport(ctx.source, ctx.root, 'import html', IMPORT_KINDS, /^import\s+(?:[\w.]+\s*,\s*)*html\b/m);
  return { description, edits: add ? [...edits, add] : edits };
}

export const pythonFixers: readonly FixerEntry[] = [
  { ruleIds: ['python.xss'], fix: escapedHtml },
  { ruleIds: ['python.sql-injection', 'python.taint.sql-injection'], fix: parameterisedSql },
  { ruleIds: ['python.command-injection'], fix: osCommand },
  { ruleIds: ['python.subprocess-shell-true'], fix: subprocessWithoutShell },
  { ruleIds: ['python.weak-hash-new'], fix: hashNew },
  { ruleIds: ['python.unverified-ssl-context'], fix: verifiedTls },
  { ruleIds: ['python.xxe'], fix: safeXml },
  { ruleIds: ['python.flask-debug'], fix: debugOff },
];
