/**
 * Masking for every output that may carry a credential: findings, API answers, events, reports, logs and
 * model prompts. Redaction uses the same provider table as the secret analyzer, so whatever the scanner
 * can report is also what never leaves in clear text.
 */
import { findSecrets } from '../analysis/secrets/detect.ts';

const MASK = '*';
/** Longest run of mask characters, so a masked PEM body stays one readable line. */
const MAX_MASK = 32;

/**
 * `AKIAIOSFODNN7EXAMPLE` → `AKIA************MPLE`: long secrets keep their first and last 4 characters
 * (enough to tell keys apart and to find the one to revoke), 12–19 characters keep only the first 4,
 * shorter ones nothing.
 */
export function maskSecret(value: string): string {
  const compact = value.replace(/\\[nr]/g, '\n').trim();
  const length = compact.length;
  if (length < 12) return MASK.repeat(Math.min(Math.max(length, 4), 8));
  const multiLine = /\s/.test(compact);
  const head = compact.slice(0, 4);
  if (length < 20 || multiLine) return head + MASK.repeat(Math.min(length - 4, MAX_MASK));
  return head + MASK.repeat(Math.min(length - 8, MAX_MASK)) + compact.slice(-4);
}

/** `text` with every credential the secret rules recognise replaced by its mask. */
export function redactSecrets(text: string): string {
  const matches = findSecrets(text, { unquotedAssignments: true, everyNamedValue: true });
  if (matches.length === 0) return text;
  let out = '';
  let cursor = 0;
  for (const match of matches) {
    out += text.slice(cursor, match.start) + maskSecret(match.secret);
    cursor = match.end;
  }
  return out + text.slice(cursor);
}
