/**
 * Cross-site scripting rewrites where the response is HTML built by the code itself: the request values put into
 * the text go through an HTML escaper. JavaScript (Express `res.send`/`res.write`/`res.end`) uses the escaper the
 * file already imports (`escape-html`, `he`, lodash `escape`) or already calls (`escapeHtml`); Java uses the
 * encoder of a library the file already imports (Spring web `HtmlUtils`, commons-text or commons-lang
 * `StringEscapeUtils`, OWASP Java Encoder `Encode`, ESAPI). Both decline otherwise: no dependency is ever added.
 */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { insertAt, nodeAt, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

const JS_REQUEST = /\b(req|request|ctx\.request)\.(body|query|params|headers|cookies)\b/;

/** Callees the JavaScript XSS rules treat as HTML escapers; a file's escaper is reused only under one of these names. */
const JS_ESCAPERS = /^(escapeHtml|escapeHTML|htmlEscape|escape|he\.(encode|escape)|_\.escape|lodash\.escape|encodeHTML)$/;

/** Names the flow assigned the tainted value to (`assigned to name`), besides request data itself. */
function taintedNames(ctx: RewriteContext): Set<string> {
  const names = new Set<string>();
  for (const step of ctx.finding.dataflow ?? []) {
    const m = /^assigned to ([A-Za-z_$][\w$]*)$/.exec(step.label);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}

function isLiteral(node: SgNode): boolean {
  const kind = node.kind() as string;
  if (kind === 'string' || kind === 'number' || kind === 'true' || kind === 'false' || kind === 'null') return true;
  return kind === 'template_string' && !node.children().some((c) => c.kind() === 'template_substitution');
}

/** The interpolated values of a template or `+` chain; undefined for any other shape (a bare value is declined). */
function interpolated(node: SgNode): SgNode[] | undefined {
  const kind = node.kind() as string;
  if (kind === 'parenthesized_expression') {
    const inner = node.children().find((c) => c.isNamed());
    return inner ? interpolated(inner) : undefined;
  }
  if (kind === 'template_string') {
    return node
      .children()
      .filter((c) => c.kind() === 'template_substitution')
      .map((c) => c.children().find((x) => x.isNamed()))
      .filter((x): x is SgNode => x !== undefined);
  }
  if (kind === 'binary_expression' && node.field('operator')?.text() === '+') {
    const out: SgNode[] = [];
    for (const side of [node.field('left'), node.field('right')]) {
      if (!side) return undefined;
      if (isLiteral(side)) continue;
      const inner = side.kind() === 'binary_expression' || side.kind() === 'template_string' ? interpolated(side) : [side];
      if (!inner) return undefined;
      out.push(...inner);
    }
    return out;
  }
  return undefined;
}

/** The local name the file binds an HTML escaper to, if it imports one the rules recognise. */
function importedEscaper(source: string): string | undefined {
  const bound = (module: string) =>
    new RegExp(`(?:const|let|var)\\s+([\\w$]+)\\s*=\\s*require\\(\\s*['"]${module}['"]\\s*\\)|import\\s+([\\w$]+)\\s+from\\s+['"]${module}['"]`).exec(source);
  const escapeHtml = bound('escape-html');
  const escapeName = escapeHtml?.[1] ?? escapeHtml?.[2];
  if (escapeName && JS_ESCAPERS.test(escapeName)) return escapeName;
  const he = bound('he');
  if ((he?.[1] ?? he?.[2]) === 'he') return 'he.escape';
  const lodash = bound('lodash');
  if ((lodash?.[1] ?? lodash?.[2]) === '_') return '_.escape';
  if ((lodash?.[1] ?? lodash?.[2]) === 'lodash') return 'lodash.escape';
  if (/import\s*\{[^}]*\bescape\b[^}]*\}\s*from\s*['"]lodash(-es)?['"]/.test(source)) return 'escape';
  const single = bound('lodash/escape') ?? bound('lodash.escape');
  const singleName = single?.[1] ?? single?.[2];
  if (singleName && JS_ESCAPERS.test(singleName)) return singleName;
  // A helper of the application's own that the file already calls.
  return /(?:^|[^\w$.])(escapeHtml|escapeHTML|htmlEscape|encodeHTML)\s*\(/.exec(source)?.[1];
}

function expressXss(ctx: RewriteContext): Rewrite | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, ['call_expression']);
  if (!call || !/^(res|response|ctx\.response)\.(send|write|end)$/.test(call.field('function')?.text() ?? '')) return undefined;
  const body = call.field('arguments')?.children().find((c) => c.isNamed() && c.kind() !== 'comment');
  const values = body ? interpolated(body) : undefined;
  if (!values || values.length === 0) return undefined;
  const tainted = taintedNames(ctx);
  const flagged = values.filter((v) => {
    if (v.kind() === 'call_expression' && JS_ESCAPERS.test(v.field('function')?.text() ?? '')) return false;
    return JS_REQUEST.test(v.text()) || [...tainted].some((n) => new RegExp(`(^|[^\\w$.])${n.replace(/\$/g, '\\$')}($|[^\\w$])`).test(v.text()));
  });
  if (flagged.length === 0) return undefined;
  // Only an escaper the file already has: a function written into the file would be judged by its body, which no
  // analysis can prove escapes, and adding a package is the application's choice.
  const escaper = importedEscaper(ctx.source);
  if (!escaper) return undefined;
  const edits: Edit[] = [];
  for (const v of flagged) edits.push(replaceNode(ctx.source, v, `${escaper}(${v.text()})`));
  return { description: `HTML-escape the request values written into the response with ${escaper}.`, edits };
}

// --- Java ------------------------------------------------------------------------------------------------------

const JAVA_REQUEST = /\.(getParameter|getParameterValues|getHeader|getQueryString|getCookies|getValue|getPathInfo|getRequestURI)\s*\(/;

interface JavaEncoder {
  /** Imports that show the library is on the class path. */
  readonly present: RegExp;
  /** A fully qualified use of the library in the code, which shows the same without an import. */
  readonly qualified: RegExp;
  /** The import the call needs, unless the file has it (or its package) already. */
  readonly import: string;
  readonly call: string;
}

const JAVA_ENCODERS: readonly JavaEncoder[] = [
  { present: /^import\s+org\.owasp\.encoder\./m, qualified: /\borg\.owasp\.encoder\.\w/, import: 'org.owasp.encoder.Encode', call: 'Encode.forHtml' },
  { present: /^import\s+org\.springframework\.web\./m, qualified: /\borg\.springframework\.web\.\w/, import: 'org.springframework.web.util.HtmlUtils', call: 'HtmlUtils.htmlEscape' },
  { present: /^import\s+org\.apache\.commons\.text\./m, qualified: /\borg\.apache\.commons\.text\.\w/, import: 'org.apache.commons.text.StringEscapeUtils', call: 'StringEscapeUtils.escapeHtml4' },
  { present: /^import\s+org\.apache\.commons\.lang3\.StringEscapeUtils;/m, qualified: /\borg\.apache\.commons\.lang3\.StringEscapeUtils\b/, import: 'org.apache.commons.lang3.StringEscapeUtils', call: 'StringEscapeUtils.escapeHtml4' },
  { present: /^import\s+org\.owasp\.esapi\.ESAPI;/m, qualified: /\borg\.owasp\.esapi\.ESAPI\b/, import: 'org.owasp.esapi.ESAPI', call: 'ESAPI.encoder().encodeForHTML' },
];

const JAVA_ESCAPED = /^([\w.]*\.)?(Encode\.forHtml\w*|HtmlUtils\.htmlEscape\w*|StringEscapeUtils\.escapeHtml\d|ESAPI\.encoder\(\)\.encodeForHTML\w*)$/;

/** Operands of a `+` chain that are not literals. */
function javaOperands(node: SgNode): SgNode[] {
  if (node.kind() === 'parenthesized_expression') {
    const inner = node.children().find((c) => c.isNamed());
    return inner ? javaOperands(inner) : [node];
  }
  if (node.kind() === 'binary_expression' && node.field('operator')?.text() === '+') {
    return [node.field('left'), node.field('right')].flatMap((n) => (n ? javaOperands(n) : []));
  }
  return /^(string_literal|character_literal|decimal_integer_literal|true|false|null_literal)$/.test(node.kind() as string) ? [] : [node];
}

function javaXss(ctx: RewriteContext): Rewrite | undefined {
  let call = nodeAt(ctx.root, ctx.finding.location, ['method_invocation']);
  // `response.getWriter().print(...)` starts where `response.getWriter()` does: climb to the writing call.
  while (call && !/^(print|println|write|append|format|printf)$/.test(call.field('name')?.text() ?? '')) {
    const parent = call.parent();
    if (parent?.kind() !== 'method_invocation' || parent.field('object')?.range().start.index !== call.range().start.index) break;
    call = parent;
  }
  const method = call?.field('name')?.text() ?? '';
  if (!call || !/^(print|println|write|append|format|printf)$/.test(method)) return undefined;
  const args = call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'line_comment' && c.kind() !== 'block_comment') ?? [];
  const first = args[0];
  if (!first) return undefined;
  let values: SgNode[];
  if (method === 'format' || method === 'printf') {
    // `format([locale,] format, values...)`: the values (varargs, or one `new Object[] {...}`), and the format itself
    // when it is not a literal. Escaping leaves `%` alone, so an escaped format still formats the same way.
    const at = /^(java\.util\.)?Locale\.\w+$|^locale$/i.test(first.text()) && args.length > 1 ? 1 : 0;
    const format = args[at] as SgNode;
    const rest = args.slice(at + 1);
    const array = rest.length === 1 && rest[0]?.kind() === 'array_creation_expression' ? rest[0].find({ rule: { kind: 'array_initializer' } }) : undefined;
    values = array ? array.children().filter((c) => c.isNamed()) : rest;
    if (format.kind() === 'string_literal') {
      if (/%(?!s|n|%)/.test(format.text())) return undefined;
    } else values = [format, ...values];
  } else {
    if (args.length !== 1) return undefined;
    values = javaOperands(first);
  }
  const tainted = taintedNames(ctx);
  const flagged = values.filter((v) => {
    if (v.kind() === 'method_invocation' && JAVA_ESCAPED.test(`${v.field('object')?.text() ?? ''}.${v.field('name')?.text() ?? ''}`)) return false;
    return JAVA_REQUEST.test(v.text()) || [...tainted].some((n) => new RegExp(`(^|[^\\w$.])${n}($|[^\\w$])`).test(v.text()));
  });
  if (flagged.length === 0) return undefined;
  const imported = JAVA_ENCODERS.find((e) => e.present.test(ctx.source));
  const qualified = imported ? undefined : JAVA_ENCODERS.find((e) => e.qualified.test(ctx.source.replace(/^import\s.*$/gm, '')));
  const encoder = imported ?? qualified;
  if (!encoder) return undefined;
  const edits: Edit[] = [];
  // The encoders take a String: any other value (a number, an object) goes in as the text it would print as.
  const isString = (v: SgNode) =>
    /^[\w.]+\.(getParameter|getHeader|getQueryString|getPathInfo|getRequestURI)\([^()]*\)$/.test(v.text()) ||
    (v.kind() === 'identifier' && new RegExp(`\\bString\\s+${v.text()}\\b`).test(ctx.source));
  const wrap = (call: string) => {
    for (const v of flagged) edits.push(replaceNode(ctx.source, v, `${call}(${isString(v) ? v.text() : `String.valueOf(${v.text()})`})`));
  };
  if (qualified) {
    // The file names the library by its full package instead of importing it: so does the fix.
    const call = `${encoder.import.slice(0, encoder.import.lastIndexOf('.'))}.${encoder.call}`;
    wrap(call);
    return { description: `HTML-escape the request values written into the response with ${call}.`, edits };
  }
  const simple = encoder.import.slice(encoder.import.lastIndexOf('.') + 1);
  const pkg = encoder.import.slice(0, encoder.import.lastIndexOf('.'));
  const hasClass = new RegExp(`^import\\s+(${encoder.import.replace(/\./g, '\\.')}|${pkg.replace(/\./g, '\\.')}\\.\\*);`, 'm').test(ctx.source);
  if (!hasClass) {
    // Another class of the same simple name would make the call ambiguous.
    if (new RegExp(`^import\\s+[\\w.]+\\.${simple};`, 'm').test(ctx.source)) return undefined;
    const imports = ctx.root.root().children().filter((c) => c.kind() === 'import_declaration');
    const last = imports[imports.length - 1];
    if (!last) return undefined;
    edits.push(insertAt(ctx.source, last.range().end.index, `\nimport ${encoder.import};`));
  }
  wrap(encoder.call);
  return { description: `HTML-escape the request values written into the response with ${encoder.call}.`, edits };
}

export const xssFixers: readonly FixerEntry[] = [
  { ruleIds: ['javascript.reflected-xss', 'javascript.taint.xss'], fix: expressXss },
  { ruleIds: ['java.taint.xss'], fix: javaXss },
];
