/**
 * Path traversal rewrites: the request part of a file path is resolved under the base directory the code already
 * names, and the resolved path is checked to stay inside it before the file call uses it (JavaScript
 * `path.resolve` + `startsWith(base + path.sep)`, Python `os.path.realpath` + `startswith(base + os.sep)`, Go
 * `filepath.Clean(filepath.Join(...))` + `strings.HasPrefix`). Code whose base directory is not a literal (or
 * `__dirname`) is declined: only the application knows which directory a bare request path may reach.
 */
import type { SgNode } from '@ast-grep/napi';
import type { Edit } from '../../analysis/types.ts';
import { addImport, enclosingStatement, indentOf, insertAt, literalText, nodeAt, replaceNode, type FixerEntry, type Rewrite, type RewriteContext } from './support.ts';

interface Dialect {
  readonly call: string;
  readonly string: readonly string[];
  readonly blocks: readonly string[];
  readonly functions: readonly string[];
  /** Functions that join path segments: their last argument is the request part, the others the base. */
  readonly join: RegExp;
  /** Base segments besides string literals. */
  readonly baseWords: RegExp;
}

const JS: Dialect = {
  call: 'call_expression',
  string: ['string'],
  blocks: ['statement_block', 'program', 'switch_case'],
  functions: ['function_declaration', 'function_expression', 'arrow_function', 'method_definition', 'generator_function_declaration'],
  join: /^path\.(join|resolve)$/,
  baseWords: /^(__dirname|process\.cwd\(\))$/,
};

const PY: Dialect = {
  call: 'call',
  string: ['string'],
  blocks: ['block', 'module'],
  functions: ['function_definition', 'lambda'],
  join: /^os\.path\.join$/,
  baseWords: /^(os\.getcwd\(\))$/,
};

const GO: Dialect = {
  call: 'call_expression',
  string: ['interpreted_string_literal', 'raw_string_literal'],
  blocks: ['statement_list'],
  functions: ['function_declaration', 'method_declaration', 'func_literal'],
  join: /^(filepath|path)\.Join$/,
  baseWords: /^$/,
};

function args(call: SgNode): SgNode[] {
  return call.field('arguments')?.children().filter((c) => c.isNamed() && c.kind() !== 'comment' && c.kind() !== 'keyword_argument') ?? [];
}

function isBase(node: SgNode, d: Dialect): boolean {
  return (d.string.includes(node.kind() as string) && literalText(node) !== undefined && !/[{}$%]/.test(node.text())) || d.baseWords.test(node.text());
}

interface Split {
  /** Source text of the base directory segments, comma separated. */
  readonly base: string;
  readonly input: SgNode;
}

/** Splits a path expression into its base directory and the request part, or undefined when there is no base. */
function splitPath(path: SgNode, d: Dialect): Split | undefined {
  if (path.kind() === 'binary_expression' || path.kind() === 'binary_operator') {
    const left = path.field('left');
    const right = path.field('right');
    const op = path.children().find((c) => !c.isNamed())?.text();
    // Only a literal ending in a separator names a directory; '/srv/report-' + name is a file-name prefix.
    if (!left || !right || op !== '+' || !isBase(left, d) || !/[/\\]$/.test(literalText(left) ?? '')) return undefined;
    if (isBase(right, d)) return undefined;
    return { base: left.text(), input: right };
  }
  if (path.kind() === d.call && d.join.test(path.field('function')?.text() ?? '')) {
    const list = args(path);
    const input = list[list.length - 1];
    const bases = list.slice(0, -1);
    if (!input || bases.length === 0 || !bases.every((b) => isBase(b, d)) || isBase(input, d)) return undefined;
    return { base: bases.map((b) => b.text()).join(', '), input };
  }
  return undefined;
}

/** A name for the checked path from the request part (`req.query.doc` → doc), unique in the file. */
function checkedName(ctx: RewriteContext, input: SgNode, fn: SgNode | undefined, style: 'camel' | 'snake'): string {
  const words = input.text().match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  const keyed = /["']([A-Za-z_][A-Za-z0-9_]*)["']\s*[\])]\s*$/.exec(input.text())?.[1];
  const stem = (keyed ?? words[words.length - 1] ?? 'requested').replace(/^_+/, '') || 'requested';
  let name = style === 'camel' ? `${stem}Path` : `${stem.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_path`;
  const scope = fn?.text() ?? ctx.source;
  const repeated = scope.split(input.text()).length - 1 > 1;
  if (repeated || new RegExp(`\\b${name}\\b`).test(ctx.source)) name += String(ctx.finding.location.startLine);
  return name;
}

interface Located {
  readonly path: SgNode;
  readonly split: Split;
  readonly statement: SgNode;
  readonly fn: SgNode | undefined;
}

/** The sink's path argument, its base and request parts, and the statement the check goes before. */
function locate(ctx: RewriteContext, d: Dialect, pathIndex: (call: SgNode) => number): Located | undefined {
  const call = nodeAt(ctx.root, ctx.finding.location, [d.call]);
  if (!call) return undefined;
  const ownSplit = d.join.test(call.field('function')?.text() ?? '') ? splitPath(call, d) : undefined;
  const path = ownSplit ? call : args(call)[pathIndex(call)];
  const split = ownSplit ?? (path ? splitPath(path, d) : undefined);
  if (!path || !split) return undefined;
  const statement = enclosingStatement(call, d.blocks);
  if (!statement) return undefined;
  // The check is hoisted before the statement: the sink must run in the statement's own function, not in a
  // callback declared inside it.
  const fnOf = (n: SgNode) => {
    for (let p = n.parent(); p; p = p.parent()) if (d.functions.includes(p.kind() as string)) return p;
    return undefined;
  };
  // Nor may the sink run only on some paths through the statement (a branch, a loop, a `cond && call`): the check
  // would then run, and throw, where the file call would not.
  for (let n: SgNode | null = call; n && n.range().start.index >= statement.range().start.index; n = n.parent()) {
    if (CONDITIONAL.test(n.kind() as string) || (/^(binary_expression|boolean_operator)$/.test(n.kind() as string) && /^(&&|\|\||\?\?|and|or)$/.test(n.field('operator')?.text() ?? ''))) return undefined;
    if (n.range().start.index === statement.range().start.index && n.range().end.index === statement.range().end.index) break;
  }
  const fn = fnOf(call);
  const statementFn = fnOf(statement);
  if ((fn?.range().start.index ?? -1) !== (statementFn?.range().start.index ?? -1)) return undefined;
  return { path, split, statement, fn };
}

const CONDITIONAL = /^(if_statement|for_statement|for_in_statement|for_range_statement|while_statement|do_statement|switch_statement|expression_switch_statement|try_statement|ternary_expression|conditional_expression|match_statement|select_statement|list_comprehension|generator_expression)$/;

const DESCRIPTION = 'Resolve the requested path under its base directory and reject it when it escapes that directory.';

function javascriptPath(ctx: RewriteContext): Rewrite | undefined {
  const found = locate(ctx, JS, () => 0);
  if (!found) return undefined;
  const { path, split, statement, fn } = found;
  const edits: Edit[] = [];
  if (!/\bpath\s*=\s*require\(\s*['"](node:)?path['"]\s*\)|import\s+(\*\s+as\s+)?path\s+from\s+['"](node:)?path['"]/.test(ctx.source)) {
    // `path` must be free to bind to the module.
    if (/\bpath\b/.test(ctx.source)) return undefined;
    const esm = /^\s*import\s/m.test(ctx.source);
    if (esm) edits.push(addImport(ctx.source, ctx.root, "import path from 'node:path';", ['import_statement'], /^$/) as Edit);
    else {
      const requires = ctx.root.root().children().filter((c) => /^(const|let|var)\s[^=]*=\s*require\(/.test(c.text()));
      const last = requires[requires.length - 1];
      edits.push(last ? insertAt(ctx.source, last.range().end.index, "\nconst path = require('node:path');") : insertAt(ctx.source, 0, "const path = require('node:path');\n"));
    }
  }
  const name = checkedName(ctx, split.input, fn, 'camel');
  const indent = indentOf(ctx.source, statement);
  const check = [
    `const ${name} = path.resolve(${split.base}, ${split.input.text()});`,
    `if (!${name}.startsWith(path.resolve(${split.base}) + path.sep)) {`,
    `  throw new Error('path escapes its base directory');`,
    `}`,
  ];
  edits.push(insertAt(ctx.source, statement.range().start.index, check.map((l, i) => (i === 0 ? l : indent + l)).join('\n') + `\n${indent}`));
  edits.push(replaceNode(ctx.source, path, name));
  return { description: DESCRIPTION, edits };
}

function pythonPath(ctx: RewriteContext): Rewrite | undefined {
  const found = locate(ctx, PY, () => 0);
  if (!found) return undefined;
  const { path, split, statement, fn } = found;
  const edits: Edit[] = [];
  if (!/^import\s+([\w.]+\s*,\s*)*os\s*(,|$)/m.test(ctx.source)) {
    if (/^\s*(from\s+\S+\s+)?import\s.*\bos\b/m.test(ctx.source) || /\bos\s*=/.test(ctx.source)) return undefined;
    const edit = addImport(ctx.source, ctx.root, 'import os', ['import_statement', 'import_from_statement', 'future_import_statement'], /^import os$/m);
    if (edit) edits.push(edit);
  }
  const name = checkedName(ctx, split.input, fn, 'snake');
  const indent = indentOf(ctx.source, statement);
  const check = [
    `${name} = os.path.realpath(os.path.join(${split.base}, ${split.input.text()}))`,
    `if not ${name}.startswith(os.path.realpath(${split.base}) + os.sep):`,
    `    raise ValueError("path escapes its base directory")`,
  ];
  edits.push(insertAt(ctx.source, statement.range().start.index, check.map((l, i) => (i === 0 ? l : indent + l)).join('\n') + `\n${indent}`));
  edits.push(replaceNode(ctx.source, path, name));
  return { description: DESCRIPTION, edits };
}

/** The `http.ResponseWriter` parameter of a handler without results, which the check answers 400 through. */
function responseWriter(fn: SgNode | undefined): string | undefined {
  if (!fn || fn.field('result')) return undefined;
  const params = fn.field('parameters')?.children().filter((c) => c.kind() === 'parameter_declaration') ?? [];
  const writer = params.find((p) => p.field('type')?.text() === 'http.ResponseWriter');
  return writer?.field('name')?.text();
}

function goPath(ctx: RewriteContext): Rewrite | undefined {
  const found = locate(ctx, GO, (call) => (call.field('function')?.text() === 'http.ServeFile' ? 2 : 0));
  if (!found) return undefined;
  const { path, split, statement, fn } = found;
  const writer = responseWriter(fn);
  if (!writer) return undefined;
  const imports = ctx.root.root().findAll({ rule: { kind: 'import_spec' } });
  const has = (p: string, alias: string) => imports.some((s) => s.field('path')?.text() === `"${p}"` && !s.field('name')) || !new RegExp(`\\b${alias}\\.`).test(ctx.source);
  if (!has('path/filepath', 'filepath') || !has('strings', 'strings')) return undefined;
  const edits: Edit[] = [];
  const declarations = ctx.root.root().children().filter((c) => c.kind() === 'import_declaration');
  const last = declarations[declarations.length - 1];
  if (!last) return undefined;
  for (const p of ['path/filepath', 'strings']) {
    if (!imports.some((s) => s.field('path')?.text() === `"${p}"`)) edits.push(insertAt(ctx.source, last.range().end.index, `\nimport "${p}"`));
  }
  const name = checkedName(ctx, split.input, fn, 'camel');
  const indent = indentOf(ctx.source, statement);
  const check = [
    `${name} := filepath.Clean(filepath.Join(${split.base}, ${split.input.text()}))`,
    `if !strings.HasPrefix(${name}, filepath.Clean(${split.base})+string(filepath.Separator)) {`,
    `\thttp.Error(${writer}, "invalid path", http.StatusBadRequest)`,
    `\treturn`,
    `}`,
  ];
  edits.push(insertAt(ctx.source, statement.range().start.index, check.map((l, i) => (i === 0 ? l : indent + l)).join('\n') + `\n${indent}`));
  edits.push(replaceNode(ctx.source, path, name));
  return { description: DESCRIPTION, edits };
}

export const pathFixers: readonly FixerEntry[] = [
  { ruleIds: ['javascript.path-traversal', 'javascript.taint.path-traversal'], fix: javascriptPath },
  { ruleIds: ['python.path-traversal', 'python.taint.path-traversal'], fix: pythonPath },
  { ruleIds: ['go.path-traversal', 'go.taint.path-traversal'], fix: goPath },
];
