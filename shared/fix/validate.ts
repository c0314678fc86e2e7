/**
 * Fix validation: a proposed change to one file is accepted only when the file still parses as well as before,
 * a re-scan of the changed file (the same structural rules, taint tracking and secret detection as a repository
 * scan) no longer reports the finding and reports nothing new, and the change stays small. Rule rewrites and
 * model-written fixes go through the same check.
 */
import { basename } from 'node:path';
import { DEFAULT_CONFIG } from '../analysis/config.ts';
import { parseSource } from '../analysis/languages.ts';
import { scanFiles, type ScanResult } from '../analysis/scanner.ts';
import type { Finding, LanguageId } from '../analysis/types.ts';

export { buildRuleFix, hasRewrite, rewriteFor } from './rewrites/index.ts';

export const DEFAULT_MAX_CHANGED_LINES = 40;

export interface ValidateFixInput {
  /** Path of the file in the repository, as in the finding's location. */
  readonly path: string;
  readonly language: LanguageId;
  readonly before: string;
  readonly after: string;
  readonly finding: Finding;
  /** Upper bound on added plus removed lines. */
  readonly maxChangedLines?: number;
}

export type ValidationCode = 'PARSE_ERROR' | 'FINDING_REMAINS' | 'NEW_FINDINGS' | 'TOO_LARGE' | 'NO_CHANGE';

export interface ValidationEvidence {
  readonly parses: true;
  readonly findingGone: true;
  readonly newFindings: 0;
  /** Lines added plus lines removed. */
  readonly changedLines: number;
  /** Version of the rule set the re-scan ran with. */
  readonly ruleset: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly evidence: ValidationEvidence }
  | { readonly ok: false; readonly reason: string; readonly code: ValidationCode };

/**
 * Syntax problems in a tree: error nodes plus the zero-width tokens the parser inserts where one is missing
 * (a dropped `)` parses as a MISSING node, not an error).
 */
export function syntaxProblems(language: LanguageId, source: string): number {
  return parseSource(language, source)
    .root()
    .findAll({ rule: { any: [{ kind: 'ERROR' }, { regex: '^$' }] } }).length;
}

export interface LineDiff {
  /** Lines added plus lines removed. */
  readonly changedLines: number;
  /** For each 1-based line of the old text, its 1-based line in the new text, or 0 where it was changed. */
  readonly map: Int32Array;
}

/** Bound on the table of the line comparison; beyond it every line between the common ends counts as changed. */
const MAX_DIFF_CELLS = 4_000_000;

/** Line diff: common head and tail, then the longest common subsequence of the lines between them. */
export function diffLines(before: string, after: string): LineDiff {
  const a = before.split('\n');
  const b = after.split('\n');
  const map = new Int32Array(a.length + 1);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) {
    map[head + 1] = head + 1;
    head++;
  }
  let tailA = a.length;
  let tailB = b.length;
  while (tailA > head && tailB > head && a[tailA - 1] === b[tailB - 1]) {
    map[tailA] = tailB;
    tailA--;
    tailB--;
  }
  const n = tailA - head;
  const m = tailB - head;
  if (n * m > MAX_DIFF_CELLS) return { changedLines: n + m, map };
  // lcs[i][j]: common lines of a[head+i..] and b[head+j..], stored row-major.
  const width = m + 1;
  const lcs = new Int32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] = a[head + i] === b[head + j] ? (lcs[(i + 1) * width + j + 1] as number) + 1 : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[head + i] === b[head + j]) {
      map[head + i + 1] = head + j + 1;
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number)) i++;
    else j++;
  }
  const common = lcs[0] as number;
  return { changedLines: n - common + (m - common), map };
}

const SCAN_CONFIG = { ...DEFAULT_CONFIG, ignore: [], maxFileSize: Number.MAX_SAFE_INTEGER };

/** The most recent "before" scan, since a workflow or benchmark validates several fixes of one file in a row. */
let lastBefore: { key: string; result: ScanResult } | undefined;

function scanOne(path: string, source: string): ScanResult {
  const result = scanFiles([{ path, source }], { config: SCAN_CONFIG });
  // Paths under vendored or generated-looking folders are skipped by a repository scan; the check still runs.
  if (result.filesScanned === 0) return scanFiles([{ path: basename(path), source }], { config: SCAN_CONFIG });
  return result;
}

function scanBefore(path: string, source: string): ScanResult {
  const key = `${path}\0${source}`;
  if (lastBefore?.key !== key) lastBefore = { key, result: scanOne(path, source) };
  return lastBefore.result;
}

function sameWeakness(a: Finding, b: Finding): boolean {
  return a.ruleId === b.ruleId || a.cwe.some((c) => b.cwe.includes(c));
}

function describe(f: Finding): string {
  return `${f.ruleId} at line ${f.location.startLine}`;
}

/**
 * Checks a change to one file against the finding it should remove. Findings before and after are paired by
 * rule, code and line (mapped through the line diff); a finding whose code the change rewrote pairs with a
 * vanished finding of the same rule instead of counting as new.
 */
export function validateFix(input: ValidateFixInput): ValidationResult {
  const { path, language, before, after, finding } = input;
  const maxChangedLines = input.maxChangedLines ?? DEFAULT_MAX_CHANGED_LINES;
  if (before === after) return { ok: false, code: 'NO_CHANGE', reason: 'The change leaves the file as it was.' };
  const diff = diffLines(before, after);
  const changedLines = diff.changedLines;
  if (changedLines > maxChangedLines) {
    return { ok: false, code: 'TOO_LARGE', reason: `The change touches ${changedLines} lines; at most ${maxChangedLines} are allowed.` };
  }
  const problemsBefore = syntaxProblems(language, before);
  const problemsAfter = syntaxProblems(language, after);
  if (problemsAfter > problemsBefore) {
    return { ok: false, code: 'PARSE_ERROR', reason: `The changed file no longer parses: ${problemsAfter - problemsBefore} new syntax error${problemsAfter - problemsBefore === 1 ? '' : 's'}.` };
  }

  const was = scanBefore(path, before);
  const now = scanOne(path, after);
  // Unchanged code keeps its rule, its code and its (mapped) line. Fingerprints alone cannot pair findings here:
  // they number repeated code by occurrence, and removing one occurrence renumbers the rest.
  const remaining = [...now.findings];
  const vanished: Finding[] = [];
  for (const f of was.findings) {
    const line = diff.map[f.location.startLine] ?? 0;
    const i = line === 0 ? -1 : remaining.findIndex((g) => g.ruleId === f.ruleId && g.location.startLine === line && g.snippet === f.snippet);
    if (i === -1) vanished.push(f);
    else remaining.splice(i, 1);
  }
  // The finding as the re-scan of the original knows it (the caller's copy may come from a differently rooted scan).
  const target =
    was.findings.find((f) => f.ruleId === finding.ruleId && f.fingerprint === finding.fingerprint) ??
    was.findings.find((f) => f.ruleId === finding.ruleId && f.location.startLine === finding.location.startLine && f.location.startColumn === finding.location.startColumn) ??
    was.findings.find((f) => f.ruleId === finding.ruleId && f.location.startLine === finding.location.startLine);
  if (target && !vanished.includes(target)) {
    return { ok: false, code: 'FINDING_REMAINS', reason: `The re-scan still reports ${describe(target)}.` };
  }
  const same = remaining.find((f) => sameWeakness(f, finding));
  if (same) return { ok: false, code: 'FINDING_REMAINS', reason: `The re-scan still reports ${describe(same)} where the change was made.` };
  // Other findings whose code the change rewrote keep their rule: pair them with the ones that vanished.
  const others = vanished.filter((f) => f !== target);
  const added = remaining.filter((f) => {
    const i = others.findIndex((o) => o.ruleId === f.ruleId);
    if (i === -1) return true;
    others.splice(i, 1);
    return false;
  });
  if (added.length > 0) {
    return { ok: false, code: 'NEW_FINDINGS', reason: `The change introduces ${added.length} new finding${added.length === 1 ? '' : 's'}: ${added.map(describe).join(', ')}.` };
  }
  return { ok: true, evidence: { parses: true, findingGone: true, newFindings: 0, changedLines, ruleset: now.rulesetVersion } };
}
