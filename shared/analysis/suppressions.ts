/**
 * Inline suppressions, on the finding's first line or on a comment-only line directly above it:
 *   codeguardian-ignore[: rule-id-or-CWE] reason
 *   # nosec [reason]            (Bandit's marker)
 *   // nosemgrep[: rule-id] [reason]
 */
import type { RawFinding, Suppression } from './types.ts';

const INLINE = /codeguardian-ignore(?:\s*:\s*([A-Za-z0-9._-]+))?(.*)$/;
const NOSEC = /\bnosec\b(.*)$/;
const NOSEMGREP = /\bnosemgrep\b(?:\s*:\s*([A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*))?(.*)$/;
const COMMENT_ONLY = /^\s*(\/\/|#|\/\*|\*|--|<!--)/;

function cleanReason(text: string | undefined, fallback: string): string {
  const reason = (text ?? '').replace(/\*\/\s*$|-->\s*$/, '').replace(/^[\s:—–-]+/, '').trim();
  return reason.length > 0 ? reason : fallback;
}

function targets(ruleId: string, cwe: readonly string[], ref: string): boolean {
  const r = ref.trim();
  if (/^cwe-\d+$/i.test(r)) return cwe.some((c) => c.toUpperCase() === r.toUpperCase());
  // `nosemgrep: sql-injection` may name the rule without its language prefix.
  return r === ruleId || ruleId.slice(ruleId.indexOf('.') + 1) === r;
}

function fromLine(line: string, finding: RawFinding): Suppression | undefined {
  const inline = INLINE.exec(line);
  if (inline) {
    if (inline[1] && !targets(finding.ruleId, finding.cwe, inline[1])) return undefined;
    return { kind: 'inline', reason: cleanReason(inline[2], 'no reason given') };
  }
  const semgrep = NOSEMGREP.exec(line);
  if (semgrep) {
    const ids = semgrep[1]?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    if (ids.length > 0 && !ids.some((id) => targets(finding.ruleId, finding.cwe, id))) return undefined;
    return { kind: 'nosemgrep', reason: cleanReason(semgrep[2], 'marked nosemgrep') };
  }
  const nosec = NOSEC.exec(line);
  if (nosec) return { kind: 'nosec', reason: cleanReason(nosec[1], 'marked nosec') };
  return undefined;
}

/** Splits a file's source into lines once; suppression lookups then index into it. */
export function findSuppression(lines: readonly string[], finding: RawFinding): Suppression | undefined {
  const index = finding.location.startLine - 1;
  const same = lines[index];
  const fromSame = same === undefined ? undefined : fromLine(same, finding);
  if (fromSame) return fromSame;
  const above = lines[index - 1];
  if (above !== undefined && COMMENT_ONLY.test(above)) return fromLine(above, finding);
  return undefined;
}
