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

/** Added plus removed lines between two texts (Myers' shortest edit script on lines). */
export function changedLineCount(before: string, after: string): number {
  const a = before.split('\n');
  const b = after.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[max + k - 1] as number) < (v[max + k + 1] as number));
      let i = down ? (v[max + k + 1] as number) : (v[max + k - 1] as number) + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) {
        i++;
        j++;
      }
      v[max + k] = i;
      if (i >= n && j >= m) return d;
    }
  }
  return max;
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
 * rule and fingerprint (rule + file + normalised code, so unchanged code pairs up wherever it moved); a finding
 * whose code the change rewrote pairs with a vanished finding of the same rule instead of counting as new.
 */
export function validateFix(input: ValidateFixInput): ValidationResult {
  const { path, language, before, after, finding } = input;
  const maxChangedLines = input.maxChangedLines ?? DEFAULT_MAX_CHANGED_LINES;
  if (before === after) return { ok: false, code: 'NO_CHANGE', reason: 'The change leaves the file as it was.' };
  const changedLines = changedLineCount(before, after);
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
  const beforeFindings = was.findings;
  const remaining = [...now.findings];
  const vanished: Finding[] = [];
  for (const f of beforeFindings) {
    const i = remaining.findIndex((g) => g.ruleId === f.ruleId && g.fingerprint === f.fingerprint);
    if (i === -1) vanished.push(f);
    else remaining.splice(i, 1);
  }
  // The finding as the re-scan of the original knows it (the caller's copy may come from a differently rooted scan).
  const target =
    beforeFindings.find((f) => f.ruleId === finding.ruleId && f.fingerprint === finding.fingerprint) ??
    beforeFindings.find((f) => f.ruleId === finding.ruleId && f.location.startLine === finding.location.startLine && f.location.startColumn === finding.location.startColumn) ??
    beforeFindings.find((f) => f.ruleId === finding.ruleId && f.location.startLine === finding.location.startLine);
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
