/**
 * Finding fingerprints: rule + file path + normalised matched code + occurrence index of identical code in
 * the same file. The line number is deliberately left out so that moving code keeps its identity.
 */
import { createHash } from 'node:crypto';

export type CommentStyle = 'c' | 'hash';

const WORD = /[A-Za-z0-9_$]/;

/**
 * Drops comments and whitespace, leaving string literals untouched, so reformatting or re-commenting code does
 * not change its fingerprint. Whitespace survives only as one space between two word characters (`return x`).
 * `c` covers // and block comments, `hash` covers # comments.
 */
export function normaliseCode(code: string, style: CommentStyle = 'c'): string {
  let out = '';
  let pendingSpace = false;
  const emit = (text: string) => {
    if (pendingSpace && out.length > 0 && WORD.test(out[out.length - 1] as string) && WORD.test(text[0] as string)) out += ' ';
    pendingSpace = false;
    out += text;
  };
  let i = 0;
  while (i < code.length) {
    const ch = code[i] as string;
    const next = code[i + 1];
    if (ch === '"' || ch === "'" || ch === '`') {
      let j = i + 1;
      while (j < code.length && code[j] !== ch) j += code[j] === '\\' ? 2 : 1;
      emit(code.slice(i, j + 1));
      i = j + 1;
    } else if ((style === 'c' && ch === '/' && next === '/') || (style === 'hash' && ch === '#')) {
      while (i < code.length && code[i] !== '\n') i++;
      pendingSpace = true;
    } else if (style === 'c' && ch === '/' && next === '*') {
      const end = code.indexOf('*/', i + 2);
      i = end === -1 ? code.length : end + 2;
      pendingSpace = true;
    } else if (/\s/.test(ch)) {
      pendingSpace = true;
      i++;
    } else {
      emit(ch);
      i++;
    }
  }
  return out;
}

export interface FingerprintInput {
  readonly ruleId: string;
  readonly path: string;
  readonly code: string;
  /** 0 for the first occurrence of this rule + normalised code in the file, 1 for the second, … */
  readonly occurrence: number;
  readonly commentStyle?: CommentStyle;
}

export function fingerprint(input: FingerprintInput): string {
  const normalised = normaliseCode(input.code, input.commentStyle);
  return createHash('sha256')
    .update(`${input.ruleId}\0${input.path}\0${normalised}\0${input.occurrence}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Fingerprints a file's findings in source order: identical code matched by the same rule twice in one file is
 * told apart by its occurrence index.
 */
export function fingerprintAll<T extends { readonly ruleId: string; readonly snippet: string; readonly location: { readonly path: string; readonly startLine: number; readonly startColumn: number } }>(
  findings: readonly T[],
  commentStyle: CommentStyle = 'c',
): (T & { readonly fingerprint: string })[] {
  const ordered = [...findings].sort((a, b) => a.location.startLine - b.location.startLine || a.location.startColumn - b.location.startColumn);
  const seen = new Map<string, number>();
  return ordered.map((f) => {
    const key = `${f.ruleId}\0${f.location.path}\0${normaliseCode(f.snippet, commentStyle)}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    return { ...f, fingerprint: fingerprint({ ruleId: f.ruleId, path: f.location.path, code: f.snippet, occurrence, commentStyle }) };
  });
}
