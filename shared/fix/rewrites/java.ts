/** Java rewrites: JDBC and JdbcTemplate parameters, strong digests and ciphers, SecureRandom, cookie flags, XXE. */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { parameteriseSql, type SqlPart } from './sql-text.ts';
import { ancestor, enclosingStatement, indentOf, insertAt, literalText, nodeAt, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

const METHODS = ['method_declaration', 'constructor_declaration', 'lambda_expression'];
const BLOCKS = ['block', 'constructor_body', 'switch_block_statement_group'];

function args(call: SgNode): SgNode[] {
  return call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'line_comment' && c.kind() !== 'block_comment') ?? [];
}

function methodName(call: SgNode): string {
  return call.field('name')?.text() ?? '';
}

/** The last segment of a (possibly qualified) receiver, `javax.crypto.Cipher` → `Cipher`. */
function receiverName(call: SgNode): string {
  return (call.field('object')?.text() ?? '').split('.').pop() ?? '';
}

function replaceFirstArgument(ctx: RewriteContext, call: SgNode, literal: string, description: string): Rewrite | undefined {
  const first = args(call)[0];
  if (!first) return undefined;
  return { description, edits: [replaceNode(ctx.source, first, literal)] };
}

function invocation(ctx: RewriteContext): SgNode | undefined {
  return nodeAt(ctx.root, ctx.finding.location, ['method_invocation']);
}

// --- digests -------------------------------------------------------------------------------------------------

function strongDigest(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  if (!call || methodName(call) !== 'getInstance' || receiverName(call) !== 'MessageDigest') return undefined;
  return replaceFirstArgument(ctx, call, '"SHA-256"', 'Use SHA-256 for the digest.');
}

const DIGEST_UTILS: Record<string, string> = {
  md2: 'sha256', md5: 'sha256', sha: 'sha256', sha1: 'sha256',
  md2Hex: 'sha256Hex', md5Hex: 'sha256Hex', shaHex: 'sha256Hex', sha1Hex: 'sha256Hex',
  getMd2Digest: 'getSha256Digest', getMd5Digest: 'getSha256Digest', getShaDigest: 'getSha256Digest', getSha1Digest: 'getSha256Digest',
};

function strongDigestUtils(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  const name = call?.field('name');
  const replacement = name ? DIGEST_UTILS[name.text()] : undefined;
  if (!name || !replacement) return undefined;
  return { description: `Use DigestUtils.${replacement} (SHA-256).`, edits: [replaceNode(ctx.source, name, replacement)] };
}

// --- ciphers -------------------------------------------------------------------------------------------------

const WEAK_CIPHER = /^"(?:DES|DESede|TripleDES|3DES|RC2|RC4|ARCFOUR|Blowfish)(?:\/[^"]*)?"$/i;
const WEAK_KEY_ALGORITHM = /^"(?:DES|DESede|TripleDES|3DES|RC2|RC4|ARCFOUR|Blowfish)"$/i;

/**
 * Cipher.getInstance → AES/GCM/NoPadding. In the same method, key generators of the old algorithm become AES
 * and IvParameterSpec becomes a GCMParameterSpec over the same IV bytes, so keys and parameters still fit.
 */
function strongCipher(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  if (!call || methodName(call) !== 'getInstance') return undefined;
  const receiver = receiverName(call);
  const first = args(call)[0];
  if (!first) return undefined;
  if (receiver === 'KeyGenerator') {
    if (!WEAK_KEY_ALGORITHM.test(first.text())) return undefined;
    // The key feeds a cipher: when that cipher is weak too, both change together so key and cipher still fit.
    const cipher = ancestor(call, METHODS)
      ?.findAll({ rule: { kind: 'method_invocation', has: { field: 'name', regex: '^getInstance$' } } })
      .find((c) => receiverName(c) === 'Cipher' && WEAK_CIPHER.test(args(c)[0]?.text() ?? ''));
    if (cipher) return cipherRewrite(ctx, cipher, args(cipher)[0] as SgNode);
    return { description: 'Generate AES keys.', edits: [replaceNode(ctx.source, first, '"AES"')] };
  }
  if (receiver !== 'Cipher') return undefined;
  return cipherRewrite(ctx, call, first);
}

function cipherRewrite(ctx: RewriteContext, call: SgNode, first: SgNode): Rewrite | undefined {
  const edits: Edit[] = [replaceNode(ctx.source, first, '"AES/GCM/NoPadding"')];
  const scope = ancestor(call, METHODS);
  if (scope) {
    for (const other of scope.findAll({ rule: { kind: 'method_invocation', has: { field: 'name', regex: '^getInstance$' } } })) {
      const arg = args(other)[0];
      if (receiverName(other) === 'KeyGenerator' && arg && WEAK_KEY_ALGORITHM.test(arg.text())) edits.push(replaceNode(ctx.source, arg, '"AES"'));
    }
    for (const spec of scope.findAll({ rule: { kind: 'object_creation_expression', has: { field: 'type', regex: '(^|\\.)IvParameterSpec$' } } })) {
      const specArgs = args(spec);
      if (specArgs.length !== 1) return undefined;
      edits.push(replaceNode(ctx.source, spec, `new javax.crypto.spec.GCMParameterSpec(128, ${(specArgs[0] as SgNode).text()})`));
    }
  }
  return { description: 'Use AES in GCM mode (authenticated encryption) with AES keys and GCM parameters.', edits };
}

function oaepPadding(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  if (!call || receiverName(call) !== 'Cipher') return undefined;
  return replaceFirstArgument(ctx, call, '"RSA/ECB/OAEPWithSHA-256AndMGF1Padding"', 'Use RSA with OAEP (SHA-256) padding.');
}

// --- randomness ----------------------------------------------------------------------------------------------

const RANDOM_TYPE = /(^|\.)(Random|ThreadLocalRandom)$/;

/** The weak generator behind a flow's source: `new Random()`, `Math.random()` or a variable holding a Random. */
function secureRandom(ctx: RewriteContext): Rewrite | undefined {
  const source = ctx.finding.dataflow?.[0] ?? ctx.finding.location;
  const node = nodeAt(ctx.root, source, ['method_invocation', 'object_creation_expression']);
  if (!node) return undefined;
  const description = 'Draw the value from java.security.SecureRandom.';
  if (node.kind() === 'object_creation_expression') return creation(ctx, node, description);
  const object = node.field('object');
  if (!object) return undefined;
  if (receiverName(node) === 'Math' && methodName(node) === 'random') {
    return { description, edits: [replaceNode(ctx.source, node, 'new java.security.SecureRandom().nextDouble()')] };
  }
  if (object.kind() === 'object_creation_expression') return creation(ctx, object, description);
  if (object.kind() === 'method_invocation' && /(^|\.)ThreadLocalRandom$/.test(object.field('object')?.text() ?? '') && methodName(object) === 'current') {
    return { description, edits: [replaceNode(ctx.source, object, 'new java.security.SecureRandom()')] };
  }
  if (object.kind() === 'identifier') {
    const declaration = ctx.root
      .root()
      .findAll({ rule: { kind: 'variable_declarator', has: { field: 'name', regex: `^${object.text()}$` } } })
      .filter((d) => d.field('value')?.kind() === 'object_creation_expression');
    const only = declaration.length === 1 ? declaration[0]?.field('value') : undefined;
    if (only) return creation(ctx, only, description);
  }
  return undefined;
}

function creation(ctx: RewriteContext, node: SgNode, description: string): Rewrite | undefined {
  if (!RANDOM_TYPE.test(node.field('type')?.text() ?? '')) return undefined;
  // A fixed seed is exactly what makes the sequence predictable: SecureRandom seeds itself.
  return { description, edits: [replaceNode(ctx.source, node, 'new java.security.SecureRandom()')] };
}

// --- cookies -------------------------------------------------------------------------------------------------

function cookieFlag(setter: string, description: string) {
  return (ctx: RewriteContext): Rewrite | undefined => {
    const call = invocation(ctx);
    const cookie = call ? args(call)[0] : undefined;
    if (!call || methodName(call) !== 'addCookie' || cookie?.kind() !== 'identifier') return undefined;
    const statement = enclosingStatement(call, BLOCKS);
    if (!statement || statement.kind() !== 'expression_statement') return undefined;
    const indent = indentOf(ctx.source, statement);
    return { description, edits: [insertAt(ctx.source, statement.range().start.index, `${cookie.text()}.${setter}(true);\n${indent}`)] };
  };
}

// --- XML parsers ---------------------------------------------------------------------------------------------

const XML_SETTINGS: Record<string, { lines: (v: string) => string[]; throws?: RegExp }> = {
  DocumentBuilderFactory: {
    lines: (v) => [
      `${v}.setAttribute(javax.xml.XMLConstants.ACCESS_EXTERNAL_DTD, "");`,
      `${v}.setAttribute(javax.xml.XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");`,
      `${v}.setExpandEntityReferences(false);`,
    ],
  },
  TransformerFactory: {
    lines: (v) => [`${v}.setAttribute(javax.xml.XMLConstants.ACCESS_EXTERNAL_DTD, "");`, `${v}.setAttribute(javax.xml.XMLConstants.ACCESS_EXTERNAL_STYLESHEET, "");`],
  },
  XMLInputFactory: {
    lines: (v) => [`${v}.setProperty(javax.xml.stream.XMLInputFactory.SUPPORT_DTD, false);`, `${v}.setProperty(javax.xml.stream.XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);`],
  },
  // These setters throw checked exceptions: only where the method already lets them through.
  SAXParserFactory: {
    lines: (v) => [`${v}.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);`],
    throws: /\b(Exception|Throwable)\b|(?=.*\bParserConfigurationException\b)(?=.*\bSAX(Exception|NotRecognizedException))/,
  },
  SchemaFactory: {
    lines: (v) => [`${v}.setProperty(javax.xml.XMLConstants.ACCESS_EXTERNAL_DTD, "");`, `${v}.setProperty(javax.xml.XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");`],
    throws: /\b(Exception|Throwable|SAXException)\b/,
  },
};

function safeXml(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  const settings = call ? XML_SETTINGS[receiverName(call)] : undefined;
  const declarator = call?.parent();
  if (!call || !settings || declarator?.kind() !== 'variable_declarator') return undefined;
  const statement = declarator.parent();
  const name = declarator.field('name')?.text();
  if (!statement || statement.kind() !== 'local_variable_declaration' || !name || !BLOCKS.includes((statement.parent()?.kind() as string | undefined) ?? '')) return undefined;
  if (settings.throws) {
    const method = ancestor(call, ['method_declaration', 'constructor_declaration']);
    const throwsClause = method?.children().find((c) => c.kind() === 'throws')?.text() ?? '';
    if (!settings.throws.test(throwsClause)) return undefined;
  }
  const indent = indentOf(ctx.source, statement);
  const text = settings.lines(name).map((l) => `\n${indent}${l}`).join('');
  return { description: 'Turn off DOCTYPEs and external entities on the XML parser factory.', edits: [insertAt(ctx.source, statement.range().end.index, text)] };
}

// --- SQL -----------------------------------------------------------------------------------------------------

const SQL_METHOD = '^(execute\\w*|prepare\\w*|query\\w*|update|batchUpdate|addBatch|nativeSQL|create\\w*Query)$';
const STATEMENT_EXECUTE = new Set(['execute', 'executeQuery', 'executeUpdate', 'executeLargeUpdate']);
const PREPARE = new Set(['prepareStatement', 'prepareCall']);
const TEMPLATE_QUERY = new Set(['query', 'queryForList', 'queryForObject', 'queryForMap', 'queryForRowSet', 'queryForLong', 'queryForInt', 'queryForStream', 'update']);

/** `"a" + x + "b"` as literal and value parts; undefined for anything but string concatenation. */
function concatParts(node: SgNode): SqlPart[] | undefined {
  if (node.kind() === 'string_literal') {
    const text = literalText(node);
    return text === undefined || node.text().startsWith('"""') ? undefined : [{ literal: text }];
  }
  if (node.kind() === 'parenthesized_expression') {
    const inner = node.children().find((c) => c.isNamed());
    return inner ? concatParts(inner) : undefined;
  }
  if (node.kind() === 'binary_expression' && node.field('operator')?.text() === '+') {
    const left = node.field('left');
    const right = node.field('right');
    if (!left || !right) return undefined;
    const l = concatParts(left) ?? (left.kind() === 'binary_expression' ? undefined : [{ value: left.text() }]);
    const r = concatParts(right) ?? (right.kind() === 'binary_expression' ? undefined : [{ value: right.text() }]);
    return l && r ? [...l, ...r] : undefined;
  }
  return undefined;
}

interface SqlSource {
  /** The concatenation to replace with the placeholder literal. */
  readonly node: SgNode;
  readonly parts: SqlPart[];
}

/** The SQL argument's concatenation: the argument itself or the single assignment of a local variable. */
function sqlSource(call: SgNode, arg: SgNode): SqlSource | undefined {
  if (arg.kind() !== 'identifier') {
    const parts = concatParts(arg);
    return parts && parts.some((p) => 'value' in p) ? { node: arg, parts } : undefined;
  }
  const scope = ancestor(call, METHODS);
  if (!scope) return undefined;
  const name = arg.text();
  const declarators = scope.findAll({ rule: { kind: 'variable_declarator', has: { field: 'name', regex: `^${name}$` } } });
  const reassigned = scope.findAll({ rule: { kind: 'assignment_expression', has: { field: 'left', regex: `^${name}$` } } });
  const otherSinks = scope
    .findAll({ rule: { kind: 'identifier', regex: `^${name}$`, inside: { kind: 'argument_list', inside: { kind: 'method_invocation', has: { field: 'name', regex: SQL_METHOD } } } } })
    .filter((n) => !n.parent()?.parent()?.range() || n.parent()?.parent()?.range().start.index !== call.range().start.index);
  const value = declarators.length === 1 ? declarators[0]?.field('value') : undefined;
  // Once the text holds placeholders, any other SQL call given it would run it without the bound values.
  if (!value || reassigned.length > 0 || otherSinks.length > 0) return undefined;
  const parts = concatParts(value);
  return parts && parts.some((p) => 'value' in p) ? { node: value, parts } : undefined;
}

function isStringTyped(scope: SgNode | undefined, expression: string): boolean {
  if (!scope || !/^[A-Za-z_$][\w$]*$/.test(expression)) return /^".*"$/.test(expression);
  const typed = [
    ...scope.findAll({ rule: { kind: 'local_variable_declaration', has: { kind: 'variable_declarator', has: { field: 'name', regex: `^${expression}$` } } } }),
    ...scope.findAll({ rule: { kind: 'formal_parameter', has: { field: 'name', regex: `^${expression}$` } } }),
  ];
  return typed.length === 1 && /^(java\.lang\.)?String$/.test(typed[0]?.field('type')?.text() ?? '');
}

function freshName(source: string, base: string): string {
  let name = base;
  for (let i = 2; new RegExp(`\\b${name}\\b`).test(source); i++) name = `${base}${i}`;
  return name;
}

function setters(scope: SgNode | undefined, target: string, values: readonly string[], positions: readonly number[]): string[] {
  return values.map((v, i) => `${target}.${isStringTyped(scope, v) ? 'setString' : 'setObject'}(${positions[i]}, ${v});`);
}

function javaString(text: string): string {
  return `"${text}"`;
}

/**
 * SQL built by concatenation becomes a constant with `?` placeholders and bound values: a Statement's execute*
 * call turns into a PreparedStatement from the same connection, a prepareStatement/prepareCall gets setString/
 * setObject calls after it, and JdbcTemplate queries get the values as their varargs.
 */
function parameterisedSql(ctx: RewriteContext): Rewrite | undefined {
  const call = invocation(ctx);
  const receiver = call?.field('object');
  const first = call ? args(call)[0] : undefined;
  if (!call || !receiver || !first) return undefined;
  const name = methodName(call);
  const source = sqlSource(call, first);
  const sql = source ? parameteriseSql(source.parts, () => '?', /\?/g) : undefined;
  if (!source || !sql) return undefined;
  const scope = ancestor(call, METHODS);
  const literal = replaceNode(ctx.source, source.node, javaString(sql.text));
  const description = 'Bind the values as query parameters instead of concatenating them into the SQL text.';

  if (PREPARE.has(name)) {
    const declarator = call.parent();
    const statement = declarator?.parent();
    const target = declarator?.field('name')?.text();
    if (declarator?.kind() !== 'variable_declarator' || statement?.kind() !== 'local_variable_declaration' || !target) return undefined;
    if (!BLOCKS.includes((statement.parent()?.kind() as string | undefined) ?? '')) return undefined;
    const indent = indentOf(ctx.source, statement);
    const bind = setters(scope, target, sql.values, sql.positions).map((l) => `\n${indent}${l}`).join('');
    return { description, edits: [literal, insertAt(ctx.source, statement.range().end.index, bind)] };
  }

  if (STATEMENT_EXECUTE.has(name)) {
    // A plain Statement's text has no placeholders of its own; if it had, they were never bound.
    if (sql.positions[0] !== 1) return undefined;
    const statement = enclosingStatement(call, BLOCKS);
    if (!statement || !['expression_statement', 'local_variable_declaration', 'return_statement'].includes(statement.kind() as string)) return undefined;
    if (receiver.kind() !== 'identifier' && receiver.kind() !== 'field_access') return undefined;
    const prepared = freshName(ctx.source, 'prepared');
    const indent = indentOf(ctx.source, statement);
    const rest = args(call).slice(1).map((a) => a.text());
    const sqlArg = source.node === first ? javaString(sql.text) : first.text();
    const lines = [
      `java.sql.PreparedStatement ${prepared} = ${receiver.text()}.getConnection().prepareStatement(${[sqlArg, ...rest].join(', ')});`,
      ...setters(scope, prepared, sql.values, sql.positions),
    ];
    const edits: Edit[] = [
      insertAt(ctx.source, statement.range().start.index, lines.map((l) => `${l}\n${indent}`).join('')),
      replaceNode(ctx.source, call, `${prepared}.${name}()`),
    ];
    if (source.node !== first) edits.push(literal);
    return { description, edits };
  }

  if (TEMPLATE_QUERY.has(name) && !/NamedParameterJdbc/.test(ctx.source)) {
    const all = args(call);
    // Only the forms whose overload with trailing `Object... args` exists: (sql) and (sql, mapper/type).
    if (all.length > 2 || (all[1] && /^new\s+Object\s*\[/.test(all[1].text()))) return undefined;
    const last = all[all.length - 1] as SgNode;
    const edits: Edit[] = [insertAt(ctx.source, last.range().end.index, `, ${sql.values.join(', ')}`)];
    if (source.node === first) edits.unshift(literal);
    else edits.push(literal);
    return { description, edits };
  }
  return undefined;
}

export const javaFixers: readonly FixerEntry[] = [
  { ruleIds: ['java.weak-hash', 'java.dataflow.weak-hash'], fix: strongDigest },
  { ruleIds: ['java.weak-hash-digest-utils'], fix: strongDigestUtils },
  { ruleIds: ['java.weak-cipher', 'java.dataflow.weak-cipher'], fix: strongCipher },
  { ruleIds: ['java.cipher-no-padding-rsa'], fix: oaepPadding },
  { ruleIds: ['java.taint.weak-random'], fix: secureRandom },
  { ruleIds: ['java.insecure-cookie'], fix: cookieFlag('setSecure', 'Mark the cookie Secure so it is only sent over HTTPS.') },
  { ruleIds: ['java.cookie-without-httponly'], fix: cookieFlag('setHttpOnly', 'Mark the cookie HttpOnly so page scripts cannot read it.') },
  { ruleIds: ['java.xxe'], fix: safeXml },
  { ruleIds: ['java.taint.sql-injection'], fix: parameterisedSql },
];
