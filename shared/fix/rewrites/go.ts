/**
 * Go rewrites: database/sql placeholders with the values as arguments, SHA-256 instead of MD5/SHA-1, and request
 * strings HTML-escaped before they are written into a response.
 */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { getRuleSet } from '../../analysis/rule-pack.ts';
import { parameteriseSql, type SqlPart } from './sql-text.ts';
import { insertAt, nodeAt, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

function argList(call: SgNode): SgNode[] {
  return call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'comment') ?? [];
}

function importPaths(ctx: RewriteContext): SgNode[] {
  return ctx.root.root().findAll({ rule: { kind: 'import_spec' } });
}

function hasImport(ctx: RewriteContext, path: string): boolean {
  return importPaths(ctx).some((s) => s.field('path')?.text() === `"${path}"`);
}

/** An import line after the last import declaration (gofmt keeps separate declarations valid). */
function addImport(ctx: RewriteContext, path: string): Edit | undefined {
  if (hasImport(ctx, path)) return undefined;
  const declarations = ctx.root.root().children().filter((c) => c.kind() === 'import_declaration');
  const last = declarations[declarations.length - 1];
  if (!last) return undefined;
  return insertAt(ctx.source, last.range().end.index, `\nimport "${path}"`);
}

// --- hashes --------------------------------------------------------------------------------------------------

const WEAK_PACKAGES: Record<string, string> = { md5: 'crypto/md5', sha1: 'crypto/sha1' };

/** md5/sha1 `.New()` and `.Sum(b)` → sha256; the old import goes when nothing else in the file uses it. */
function strongHash(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  const fn = call?.field('function');
  const pkg = fn?.field('operand')?.text() ?? '';
  const name = fn?.field('field')?.text() ?? '';
  const path = WEAK_PACKAGES[pkg];
  if (!call || !fn || fn.kind() !== 'selector_expression' || !path || (name !== 'New' && name !== 'Sum')) return undefined;
  const edits: Edit[] = [replaceNode(ctx.source, fn, name === 'New' ? 'sha256.New' : 'sha256.Sum256')];
  const otherUses = ctx.root
    .root()
    .findAll({ rule: { kind: 'selector_expression', has: { field: 'operand', regex: `^${pkg}$` } } })
    .filter((s) => s.range().start.index !== fn.range().start.index);
  const spec = importPaths(ctx).find((s) => s.field('path')?.text() === `"${path}"` && !s.field('name'));
  if (otherUses.length === 0 && spec) {
    // The old package is now unused, which Go rejects: it becomes crypto/sha256 or goes away.
    if (hasImport(ctx, 'crypto/sha256')) {
      const start = ctx.source.lastIndexOf('\n', spec.range().start.index - 1);
      const inList = spec.parent()?.kind() === 'import_spec_list';
      if (!inList) return undefined;
      edits.push({ ...replaceNode(ctx.source, spec, ''), startByte: Buffer.byteLength(ctx.source.slice(0, start), 'utf8') });
    } else edits.push(replaceNode(ctx.source, spec, '"crypto/sha256"'));
  } else {
    const add = addImport(ctx, 'crypto/sha256');
    if (add) edits.push(add);
  }
  return { description: 'Use SHA-256.', edits };
}

// --- SQL -----------------------------------------------------------------------------------------------------

interface GoText {
  readonly parts: SqlPart[];
  readonly raw: boolean;
}

function stringBody(node: SgNode): GoText | undefined {
  const text = node.text();
  if (node.kind() === 'interpreted_string_literal') return { parts: [{ literal: text.slice(1, -1) }], raw: false };
  if (node.kind() === 'raw_string_literal') return { parts: [{ literal: text.slice(1, -1) }], raw: true };
  return undefined;
}

function textParts(node: SgNode): GoText | undefined {
  const literal = stringBody(node);
  if (literal) return literal;
  if (node.kind() === 'parenthesized_expression') {
    const inner = node.children().find((c) => c.isNamed());
    return inner ? textParts(inner) : undefined;
  }
  if (node.kind() === 'binary_expression' && node.field('operator')?.text() === '+') {
    const left = node.field('left');
    const right = node.field('right');
    if (!left || !right) return undefined;
    const side = (n: SgNode): GoText | undefined => textParts(n) ?? (n.kind() === 'binary_expression' ? undefined : { parts: [{ value: n.text() }], raw: false });
    const l = side(left);
    const r = side(right);
    return l && r ? { parts: [...l.parts, ...r.parts], raw: l.raw || r.raw } : undefined;
  }
  if (node.kind() === 'call_expression' && node.field('function')?.text() === 'fmt.Sprintf') {
    const [format, ...values] = argList(node);
    const text = format ? stringBody(format) : undefined;
    if (!text) return undefined;
    const body = (text.parts[0] as { literal: string }).literal;
    const parts: SqlPart[] = [];
    let last = 0;
    let used = 0;
    for (const m of body.matchAll(/%(%|[sdvq])|%[^%sdvq]/g)) {
      if (m[1] === '%') continue;
      if (m[1] === undefined || m[1] === 'q') return undefined;
      const value = values[used++];
      if (!value) return undefined;
      parts.push({ literal: body.slice(last, m.index).replace(/%%/g, '%') }, { value: value.text() });
      last = (m.index ?? 0) + m[0].length;
    }
    parts.push({ literal: body.slice(last).replace(/%%/g, '%') });
    return used === values.length ? { parts, raw: text.raw } : undefined;
  }
  return undefined;
}

const SQL_METHOD = /^(Query|QueryRow|Exec|QueryContext|QueryRowContext|ExecContext)$/;

/**
 * The driver's placeholder style: from the driver's import when the file has it, else from the placeholders the
 * file's other queries already use.
 */
function placeholderStyle(ctx: RewriteContext): ((n: number) => string) | undefined {
  const paths = importPaths(ctx).map((s) => s.field('path')?.text() ?? '');
  if (paths.some((p) => /lib\/pq|jackc\/pgx/.test(p))) return (n) => `$${n}`;
  if (paths.some((p) => /go-sql-driver\/mysql|go-sqlite3|modernc\.org\/sqlite/.test(p))) return () => '?';
  const used = ctx.root
    .root()
    .findAll({ rule: { kind: 'call_expression', has: { field: 'function', kind: 'selector_expression', has: { field: 'field', regex: SQL_METHOD.source } } } })
    .flatMap((c) => argList(c).filter((a) => a.kind() === 'interpreted_string_literal' || a.kind() === 'raw_string_literal'))
    .map((a) => a.text());
  const dollar = used.some((t) => /\$\d/.test(t));
  const question = used.some((t) => /\?/.test(t));
  if (dollar !== question) return dollar ? (n) => `$${n}` : () => '?';
  return undefined;
}

function parameterisedSql(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  const method = call?.field('function')?.field('field')?.text() ?? '';
  if (!call || !SQL_METHOD.test(method)) return undefined;
  const args = argList(call);
  const index = method.endsWith('Context') ? 1 : 0;
  const query = args[index];
  if (!query || args.length !== index + 1 || call.field('arguments')?.text().includes('...')) return undefined;
  const style = placeholderStyle(ctx);
  const text = textParts(query);
  if (!style || !text || !text.parts.some((p) => 'value' in p)) return undefined;
  const sql = parameteriseSql(text.parts, style, style(1) === '?' ? /\?/g : /\$\d+/g);
  if (!sql || (text.raw && sql.text.includes('`')) || (!text.raw && /(^|[^\\])"/.test(sql.text))) return undefined;
  const literal = text.raw ? `\`${sql.text}\`` : `"${sql.text}"`;
  return {
    description: 'Pass the values as query arguments with placeholders instead of building them into the SQL text.',
    edits: [replaceNode(ctx.source, query, `${literal}, ${sql.values.join(', ')}`)],
  };
}

// --- XSS -----------------------------------------------------------------------------------------------------

/** Request accessors that return a plain string, so wrapping them in html.EscapeString keeps the types. */
const STRING_INPUT = /^\w+\.(FormValue|PostFormValue|URL\.Query\(\)\.Get|Header\.Get|PathValue)\(/;
const WRITERS: Record<string, number> = { 'fmt.Fprintf': 2, 'fmt.Fprint': 1, 'fmt.Fprintln': 1, 'io.WriteString': 1 };

/** Request strings written straight into a response are HTML-escaped first. */
function escapedOutput(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  const first = call ? WRITERS[call.field('function')?.text() ?? ''] : undefined;
  if (!call || first === undefined) return undefined;
  const raw = argList(call)
    .slice(first)
    .filter((a) => a.kind() === 'call_expression' && STRING_INPUT.test(a.text()));
  if (raw.length === 0) return undefined;
  const edits: Edit[] = raw.map((a) => replaceNode(ctx.source, a, `html.EscapeString(${a.text()})`));
  const add = addImport(ctx, 'html');
  if (add) edits.push(add);
  return { description: 'HTML-escape the request value before writing it into the response.', edits };
}

// --- weak randomness -----------------------------------------------------------------------------------------

const HELPER = 'cryptoRandInt63n';

/** math/rand calls in crypto/rand terms; undefined for those without an exact counterpart (Int, Float64, v2). */
function secureCall(call: SgNode): string | undefined {
  const name = call.field('function')?.field('field')?.text();
  const args = argList(call).map((a) => a.text());
  const n = args[0];
  switch (name) {
    case 'Intn':
      return n === undefined ? undefined : `int(${HELPER}(int64(${n})))`;
    case 'Int63n':
      return n === undefined ? undefined : `${HELPER}(${n})`;
    case 'Int31n':
      return n === undefined ? undefined : `int32(${HELPER}(int64(${n})))`;
    case 'Int63':
      return args.length === 0 ? `${HELPER}(1<<63 - 1)` : undefined;
    case 'Int31':
      return args.length === 0 ? `int32(${HELPER}(1<<31 - 1))` : undefined;
    case 'Uint32':
      return args.length === 0 ? `uint32(${HELPER}(1 << 32))` : undefined;
    case 'Read':
      return n === undefined ? undefined : `crand.Read(${n})`;
    default:
      return undefined;
  }
}

/**
 * Every security-sensitive math/rand call of the file (the rule's matches) at once, so the import bookkeeping is
 * the same whichever finding is fixed: crypto/rand under the name `crand` through a small helper, and math/rand
 * dropped when nothing else uses it.
 */
function cryptoRandom(ctx: RewriteContext): Rewrite | undefined {
  const rule = getRuleSet().rules.find((r) => r.id === 'go.weak-random');
  const spec = importPaths(ctx).find((s) => s.field('path')?.text() === '"math/rand"' && !s.field('name'));
  if (!rule || !spec || /\b(crand|cryptoRandInt63n)\b/.test(ctx.source) || hasImport(ctx, 'crypto/rand')) return undefined;
  const flagged = ctx.root.root().findAll(rule.config);
  const at = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  if (!at || !flagged.some((c) => c.range().start.index === at.range().start.index)) return undefined;
  const edits: Edit[] = [];
  for (const call of flagged) {
    const replacement = secureCall(call);
    if (!replacement) return undefined;
    edits.push(replaceNode(ctx.source, call, replacement));
  }
  const starts = new Set(flagged.map((c) => c.range().start.index));
  const otherUses = ctx.root
    .root()
    .findAll({ rule: { kind: 'selector_expression', has: { field: 'operand', regex: '^rand$' } } })
    .filter((sel) => !starts.has(sel.range().start.index));
  if (otherUses.length === 0) edits.push(replaceNode(ctx.source, spec, 'crand "crypto/rand"'));
  else {
    const declarations = ctx.root.root().children().filter((c) => c.kind() === 'import_declaration');
    const last = declarations[declarations.length - 1];
    if (!last) return undefined;
    edits.push(insertAt(ctx.source, last.range().end.index, '\nimport crand "crypto/rand"'));
  }
  const big = addImport(ctx, 'math/big');
  if (big) edits.push(big);
  const helper = [
    '',
    `// ${HELPER} returns a uniform random number in [0, n) from crypto/rand.`,
    `func ${HELPER}(n int64) int64 {`,
    '\tv, err := crand.Int(crand.Reader, big.NewInt(n))',
    '\tif err != nil {',
    '\t\tpanic(err)',
    '\t}',
    '\treturn v.Int64()',
    '}',
    '',
  ].join('\n');
  if (flagged.some((c) => secureCall(c)?.startsWith('crand.') !== true)) edits.push(insertAt(ctx.source, ctx.source.length, (ctx.source.endsWith('\n') ? '' : '\n') + helper));
  return { description: 'Draw the security-sensitive random values of this file from crypto/rand instead of math/rand.', edits };
}

export const goFixers: readonly FixerEntry[] = [
  { ruleIds: ['go.weak-random'], fix: cryptoRandom },
  { ruleIds: ['go.xss'], fix: escapedOutput },
  { ruleIds: ['go.weak-hash'], fix: strongHash },
  { ruleIds: ['go.sql-injection', 'go.taint.sql-injection'], fix: parameterisedSql },
];
