/** Applies rewrite fixes to a file: non-overlapping edits only, in one pass over the UTF-8 bytes. */
import type { Edit, Finding } from './types.ts';

export interface FixOutcome {
  readonly source: string;
  /** Findings whose fix was applied. */
  readonly applied: Finding[];
  /** Findings whose fix overlapped an earlier one (they stay for the re-scan to report). */
  readonly skipped: Finding[];
}

/** Edits must lie inside the source and not overlap one another. */
export function applyEdits(source: string, edits: readonly Edit[]): string {
  const buf = Buffer.from(source, 'utf8');
  const sorted = [...edits].sort((a, b) => a.startByte - b.startByte);
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

/** Applies the fixes of one file's findings, earliest first, skipping any that overlap an accepted one. */
export function applyFixes(source: string, findings: readonly Finding[]): FixOutcome {
  const withFix = findings.filter((f) => f.fix && f.fix.edits.length > 0);
  const ordered = [...withFix].sort((a, b) => firstByte(a) - firstByte(b));
  const accepted: Edit[] = [];
  const applied: Finding[] = [];
  const skipped: Finding[] = [];
  for (const finding of ordered) {
    const edits = finding.fix?.edits ?? [];
    const clashes = edits.some((e) => accepted.some((a) => e.startByte < a.endByte && a.startByte < e.endByte));
    if (clashes) {
      skipped.push(finding);
      continue;
    }
    accepted.push(...edits);
    applied.push(finding);
  }
  return { source: applyEdits(source, accepted), applied, skipped };
}

function firstByte(finding: Finding): number {
  return Math.min(...(finding.fix?.edits ?? []).map((e) => e.startByte));
}
