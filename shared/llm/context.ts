/**
 * What the model sees of a finding: its description and the code around its location and its data-flow steps
 * (source and sink), never whole files. Both go in untrusted blocks; secrets are masked there.
 */
import type { Finding } from '../analysis/types.ts';
import { redactSecrets } from '../domain/mask.ts';
import { around, mergeWindows, numberedLines, sourceLines, untrustedBlock, type LineWindow } from './untrusted.ts';

/** Scanned files by path (relative to the scan root, `/`-separated). */
export type SourceFiles = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export function sourceOf(files: SourceFiles, path: string): string | undefined {
  return files instanceof Map ? files.get(path) : (files as Readonly<Record<string, string>>)[path];
}

/** The fields of a finding the model is told about. */
export type FindingBrief = Pick<Finding, 'ruleId' | 'kind' | 'type' | 'message' | 'severity' | 'cwe' | 'location' | 'snippet' | 'dataflow'>;

export interface Excerpt {
  readonly path: string;
  readonly window: LineWindow;
  /** Numbered lines, secrets masked. */
  readonly text: string;
}

/** Lines of context around the finding itself, and around each data-flow step. */
export const FINDING_CONTEXT_LINES = 8;
export const FLOW_CONTEXT_LINES = 3;
/** At most this many lines per finding go to the model, whatever the data flow. */
export const MAX_EXCERPT_LINES = 160;

/** Excerpts around the finding and its data flow, merged per file, capped at {@link MAX_EXCERPT_LINES}. */
export function findingExcerpts(finding: FindingBrief, files: SourceFiles, contextLines = FINDING_CONTEXT_LINES): Excerpt[] {
  const wanted = new Map<string, LineWindow[]>();
  const add = (path: string, start: number, end: number, pad: number) => {
    const source = sourceOf(files, path);
    if (source === undefined) return;
    const count = sourceLines(source).length;
    if (start < 1 || start > count) return;
    const list = wanted.get(path) ?? [];
    list.push(around(start, end, count, pad));
    wanted.set(path, list);
  };
  add(finding.location.path, finding.location.startLine, finding.location.endLine, contextLines);
  for (const step of finding.dataflow ?? []) add(step.path, step.startLine, step.endLine, FLOW_CONTEXT_LINES);

  const excerpts: Excerpt[] = [];
  let budget = MAX_EXCERPT_LINES;
  // The finding's own file first, so the sink is never the part that is cut.
  const paths = [...wanted.keys()].sort((a, b) => Number(b === finding.location.path) - Number(a === finding.location.path));
  for (const path of paths) {
    const lines = sourceLines(sourceOf(files, path) ?? '');
    for (const window of mergeWindows(wanted.get(path) ?? [])) {
      if (budget <= 0) break;
      const clipped = { start: window.start, end: Math.min(window.end, window.start + budget - 1) };
      budget -= clipped.end - clipped.start + 1;
      excerpts.push({ path, window: clipped, text: redactSecrets(numberedLines(lines, clipped)) });
    }
  }
  return excerpts;
}

/** The finding as plain text (secrets masked), for an untrusted block. */
export function describeFinding(finding: FindingBrief): string {
  const { location: l } = finding;
  const lines = [
    `rule: ${finding.ruleId} (${finding.kind})`,
    `type: ${finding.type}`,
    `cwe: ${finding.cwe.join(', ') || 'none'}`,
    `severity: ${finding.severity}`,
    `location: ${l.path}:${l.startLine}-${l.endLine}`,
    `message: ${finding.message}`,
    `matched code: ${finding.snippet}`,
  ];
  if (finding.dataflow && finding.dataflow.length > 0) {
    lines.push('data flow (source first, sink last):');
    for (const step of finding.dataflow) lines.push(`  - ${step.path}:${step.startLine} ${step.label}`);
  }
  return redactSecrets(lines.join('\n'));
}

/** The finding and its excerpts as delimited blocks. */
export function findingBlocks(boundary: string, finding: FindingBrief, excerpts: readonly Excerpt[]): string {
  const blocks = [untrustedBlock(boundary, 'finding', describeFinding(finding))];
  for (const e of excerpts) blocks.push(untrustedBlock(boundary, `file ${e.path} lines ${e.window.start}-${e.window.end}`, e.text));
  return blocks.join('\n\n');
}

/** Deterministic content for cache keys: the finding and the code the model would see. */
export function findingCacheContent(finding: FindingBrief, excerpts: readonly Excerpt[]): string {
  return JSON.stringify({ finding: describeFinding(finding), excerpts: excerpts.map((e) => [e.path, e.window.start, e.text]) });
}
