/**
 * Applies rewrite fixes to a file: each finding's rule rewrite (the rule's template or its registered fixer),
 * non-overlapping edits only, in one pass over the UTF-8 bytes.
 */
import { dedupeEdits, rewriteFor } from '../fix/rewrites/index.ts';
import { applyEdits } from '../fix/rewrites/support.ts';
import type { Edit, Finding } from './types.ts';

export { applyEdits };

export interface FixOutcome {
  readonly source: string;
  /** Findings whose fix was applied. */
  readonly applied: Finding[];
  /** Findings whose fix overlapped an earlier one (they stay for the re-scan to report). */
  readonly skipped: Finding[];
}

/** The edits that fix one finding in this source: its rule rewrite, else the edits the finding carries. */
export function fixEdits(finding: Finding, source: string): readonly Edit[] {
  return rewriteFor(finding, source)?.edits ?? finding.fix?.edits ?? [];
}

/** Applies the fixes of one file's findings, earliest first, skipping any that overlap an accepted one. */
export function applyFixes(source: string, findings: readonly Finding[]): FixOutcome {
  const planned = findings.map((finding) => ({ finding, edits: fixEdits(finding, source) })).filter((p) => p.edits.length > 0);
  planned.sort((a, b) => firstByte(a.edits) - firstByte(b.edits));
  const accepted: Edit[] = [];
  const applied: Finding[] = [];
  const skipped: Finding[] = [];
  const same = (a: Edit, b: Edit) => a.startByte === b.startByte && a.endByte === b.endByte && a.replacement === b.replacement;
  for (const { finding, edits } of planned) {
    // An edit identical to an accepted one (the same import, the same fixed generator) is shared, not a clash.
    const fresh = edits.filter((e) => !accepted.some((a) => same(a, e)));
    const clashes = fresh.some((e) => accepted.some((a) => e.startByte < a.endByte && a.startByte < e.endByte));
    if (clashes) {
      skipped.push(finding);
      continue;
    }
    accepted.push(...fresh);
    applied.push(finding);
  }
  return { source: applyEdits(source, dedupeEdits(accepted)), applied, skipped };
}

function firstByte(edits: readonly Edit[]): number {
  return Math.min(...edits.map((e) => e.startByte));
}
