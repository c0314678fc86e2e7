/**
 * What a code rewrite receives and returns, and the tree helpers rewrites share: finding the node a finding
 * points at, byte-offset edits of nodes, and import insertion that is idempotent across fixes of one file.
 */
import type { SgNode, SgRoot } from '@ast-grep/napi';
import { byteOffset } from '../../analysis/structural.ts';
import type { Edit, Finding, LanguageId, Location } from '../../analysis/types.ts';

export interface RewriteContext {
  readonly finding: Finding;
  readonly language: LanguageId;
  readonly source: string;
  readonly root: SgRoot;
}

export interface Rewrite {
  readonly description: string;
  readonly edits: readonly Edit[];
}

/** Returns undefined when the code at the finding does not have a shape the rewrite handles safely. */
export type Fixer = (context: RewriteContext) => Rewrite | undefined;

export interface FixerEntry {
  /** Rule ids (structural or taint) whose findings this fixer rewrites. */
  readonly ruleIds: readonly string[];
  readonly fix: Fixer;
}

type Position = { line: number; column: number };

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.column <= b.column);
}

/** Node chain (outermost first) containing the location's start, descending through every containing child. */
function chainAt(root: SgNode, at: Position): SgNode[] {
  const chain: SgNode[] = [root];
  let node = root;
  for (;;) {
    const child = node.children().find((c) => {
      const { start, end } = c.range();
      return before(start, at) && before(at, { line: end.line, column: end.column - 1 });
    });
    if (!child) return chain;
    chain.push(child);
    node = child;
  }
}

/**
 * The innermost node of one of `kinds` that starts where the location starts (the scanners report the node they
 * matched), or else the innermost such node containing the location.
 */
export function nodeAt(root: SgRoot, location: Pick<Location, 'startLine' | 'startColumn'>, kinds: readonly string[]): SgNode | undefined {
  const at = { line: location.startLine - 1, column: location.startColumn - 1 };
  const chain = chainAt(root.root(), at).reverse();
  const ofKind = chain.filter((n) => kinds.includes(n.kind() as string));
  return ofKind.find((n) => n.range().start.line === at.line && n.range().start.column === at.column) ?? ofKind[0];
}

/** Nodes of the given kinds starting on the location's line, for findings whose column is not a node start. */
export function nodesOnLine(root: SgRoot, line: number, kind: string): SgNode[] {
  return root
    .root()
    .findAll({ rule: { kind } })
    .filter((n) => n.range().start.line === line - 1);
}

/** Applies edits that lie inside the source and do not overlap one another (byte offsets into UTF-8). */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  const buf = Buffer.from(source, 'utf8');
  const sorted = [...edits].sort((a, b) => a.startByte - b.startByte || a.endByte - b.endByte);
  const parts: Buffer[] = [];
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.startByte < cursor || edit.endByte < edit.startByte || edit.endByte > buf.length) {
      throw new RangeError(`edit ${edit.startByte}-${edit.endByte} overlaps another edit or lies outside the file`);
    }
    parts.push(buf.subarray(cursor, edit.startByte), Buffer.from(edit.replacement, 'utf8'));
    cursor = edit.endByte;
  }
  parts.push(buf.subarray(cursor));
  return Buffer.concat(parts).toString('utf8');
}

export function replaceNode(source: string, node: SgNode, replacement: string): Edit {
  const { start, end } = node.range();
  return { startByte: byteOffset(source, start.index), endByte: byteOffset(source, end.index), replacement };
}

export function insertAt(source: string, index: number, text: string): Edit {
  const at = byteOffset(source, index);
  return { startByte: at, endByte: at, replacement: text };
}

/** Removes a node together with the separator (comma and spaces) before it, or else the one after it. */
export function removeListItem(source: string, node: SgNode): Edit {
  const { start, end } = node.range();
  const head = source.slice(0, start.index);
  const lead = /,\s*$/.exec(head);
  if (lead) return { startByte: byteOffset(source, start.index - lead[0].length), endByte: byteOffset(source, end.index), replacement: '' };
  const trail = /^\s*,\s*/.exec(source.slice(end.index));
  return { startByte: byteOffset(source, start.index), endByte: byteOffset(source, end.index + (trail?.[0].length ?? 0)), replacement: '' };
}

/** Whitespace before the first character of the node's line. */
export function indentOf(source: string, node: SgNode): string {
  const lineStart = source.lastIndexOf('\n', node.range().start.index - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))?.[0] ?? '';
}

export function ancestor(node: SgNode, kinds: readonly string[]): SgNode | undefined {
  for (let p = node.parent(); p; p = p.parent()) if (kinds.includes(p.kind() as string)) return p;
  return undefined;
}

/** The statement that contains the node: the child of a block-like parent. */
export function enclosingStatement(node: SgNode, blockKinds: readonly string[]): SgNode | undefined {
  let current: SgNode | null = node;
  while (current) {
    const parent: SgNode | null = current.parent();
    if (parent && blockKinds.includes(parent.kind() as string)) return current;
    current = parent;
  }
  return undefined;
}

/**
 * An edit adding an import line after the last existing import of the file (or at `fallbackIndex`), unless the
 * file already has it. Identical edits from several fixes of one file are applied once.
 */
export function addImport(source: string, root: SgRoot, line: string, importKinds: readonly string[], present: RegExp, fallbackIndex = 0): Edit | undefined {
  if (present.test(source)) return undefined;
  const imports = root
    .root()
    .children()
    .filter((n) => importKinds.includes(n.kind() as string));
  const last = imports[imports.length - 1];
  if (last) return insertAt(source, last.range().end.index, `\n${line}`);
  return insertAt(source, fallbackIndex, `${line}\n`);
}

/** Text of a string literal node without its quotes, or undefined for anything else (escapes kept verbatim). */
export function literalText(node: SgNode | undefined | null): string | undefined {
  if (!node) return undefined;
  const m = /^(?:[rbuRBU]{0,2})(["'`])([^]*)\1$/.exec(node.text());
  return m ? m[2] : undefined;
}
