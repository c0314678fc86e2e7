/**
 * Finds credentials in text. Used by the secret analyzer (source files) and by redaction (API answers, logs,
 * prompts), so both recognise exactly the same secrets.
 */
import { charsetOf, entropyThreshold, shannonEntropy } from './entropy.ts';
import {
  GENERIC_ASSIGNMENT,
  GENERIC_AUTHORIZATION,
  SECRET_PATTERNS,
  type SecretPattern,
} from './patterns.ts';
import { isPlaceholder } from './placeholders.ts';
import { LiteralSet } from '../literal-set.ts';
import type { Severity } from '../types.ts';

export type MatchedPattern = Omit<SecretPattern, 'anchors' | 'regex'>;

export interface SecretMatch {
  readonly pattern: MatchedPattern;
  readonly severity: Severity;
  /** UTF-16 offsets of the whole match (e.g. `password = "…"`). */
  readonly matchStart: number;
  /** End of the whole match. */
  readonly matchEnd: number;
  /** UTF-16 offsets of the secret itself inside the match. */
  readonly start: number;
  readonly end: number;
  readonly secret: string;
  /** Recognised by a provider-specific format (not only a name and entropy). */
  readonly providerSpecific: boolean;
  /** The provider's checksum validated. */
  readonly checksumVerified: boolean;
  /** Connection URL pointing at the local machine (development defaults). */
  readonly local?: boolean;
}

export interface FindOptions {
  /** Accept unquoted values in `name = value` assignments (configuration files, logs). */
  readonly unquotedAssignments?: boolean;
  /** Run the name-and-entropy rules (off for paths where only provider formats are trusted). */
  readonly generic?: boolean;
  /**
   * Redaction: any value given to a secret-like name counts, however short or plain, because a weak password
   * in a log is still a password. Scanning keeps the entropy test to stay precise.
   */
  readonly everyNamedValue?: boolean;
}

/** Lines longer than this are data, not assignments; the generic rules skip them. */
const MAX_GENERIC_LINE = 2000;

/** Names whose value is a credential. Matched against the name in snake_case, at its end. */
const SECRET_NAME =
  /(?:^|_)(?:password|passwd|pwd|passphrase|secret|secret_key|client_secret|app_secret|webhook_secret|token|access_token|auth_token|refresh_token|bearer_token|api_token|api_key|apikey|access_key|access_key_id|secret_access_key|auth_key|private_key|signing_key|encryption_key|master_key|credentials?)$/;

/** Cheap pre-filter for lines that may hold such a name. */
const NAME_HINT = /passw|passphrase|pwd|secret|token|api_?key|access_?key|auth_?key|private_?key|signing_?key|encryption_?key|master_?key|credential/i;

const QUOTED_ASSIGNMENT =
  /(?<name>[A-Za-z_$][A-Za-z0-9_.$-]*)["'`\]]{0,2}(?:\s*:\s*[A-Za-z_][\w.<>[\]|]*)?\s*(?::=|=>|=(?!=)|:(?!:))\s*(?:[rbuf]|new\s+String\(|String\(|\[\]byte\()?(?<q>["'`])(?<value>[^"'`\s\\]{1,256})\k<q>/g;

const UNQUOTED_ASSIGNMENT =
  /(?<name>[A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=|:)\s*(?<value>[^\s"'`;,<>(){}[\]]{1,256})(?=\s*(?:#.*)?$|[\s;,&])/g;

const AUTHORIZATION = /\b(?:Bearer|Basic|token)\s+(?<secret>[A-Za-z0-9._~+/-]{20,}=*)/g;

function snakeCase(name: string): string {
  const last = name.split(/[.\-$]/).filter(Boolean).pop() ?? name;
  return last.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Random-looking enough to be a credential rather than a word, a name or a path. */
export function looksRandom(value: string): boolean {
  if (isPlaceholder(value)) return false;
  if (/^(?:https?:|\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(value)) return false;
  // Identifiers and dotted/kebab words: environment variable names, config keys, enum values.
  if (/^[A-Za-z]+(?:[._-][A-Za-z]+)*$/.test(value)) return false;
  const charset = charsetOf(value);
  const threshold = entropyThreshold(value, charset);
  if (threshold === undefined || shannonEntropy(value) < threshold) return false;
  if (charset === 'printable') {
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length;
    return classes >= 2;
  }
  return true;
}

/** Redaction's test: anything but a reference to a secret kept elsewhere or an already masked value. */
function isNamedValue(value: string): boolean {
  return !/\*{3}|^\$\{|^\{\{|^<|^\$[A-Za-z_]+$|^(?:true|false|null|none|undefined)$/i.test(value);
}

function entropyOk(secret: string, spec: NonNullable<SecretPattern['entropy']>): boolean {
  const random = secret.slice(spec.fixedPrefix);
  if (isPlaceholder(random) || isPlaceholder(secret)) return false;
  const threshold = spec.minBits ?? entropyThreshold(random, charsetOf(random)) ?? 3;
  return shannonEntropy(random) >= threshold;
}

/** Offsets of the line starts, built only when a candidate needs line context. */
class Lines {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  private get all(): number[] {
    if (!this.starts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    return this.starts;
  }

  /** 0-based line index of an offset. */
  lineOf(offset: number): number {
    const starts = this.all;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Text of lines [first, last], clamped. */
  slice(first: number, last: number): string {
    const starts = this.all;
    const from = starts[Math.max(0, first)] ?? 0;
    const to = starts[Math.min(starts.length - 1, last) + 1] ?? this.text.length;
    return this.text.slice(from, to);
  }
}

/** NAME_HINT's words (`api_?key` gives `apikey` and `api_key`): a file without one has no generic candidate. */
const HINT_WORDS = NAME_HINT.source.split('|').flatMap((w) => (w.includes('_?') ? [w.replace('_?', ''), w.replace('_?', '_')] : [w]));
/**
 * Every provider pattern's anchors and the hint words, found in a file in one pass. Anchors with capitals must
 * occur as written; lower-case ones match in any case, a looser pre-filter than a case-sensitive pattern needs
 * (its regex decides).
 */
const ANCHOR_WORDS = [...new Set([...SECRET_PATTERNS.flatMap((p) => p.anchors), ...HINT_WORDS])];
let anchorSet: LiteralSet | undefined;
const anchorIds = new Map(ANCHOR_WORDS.map((word, i) => [word, i]));
const hintIds = HINT_WORDS.map((word) => anchorIds.get(word)!);

function hasAnchor(pattern: SecretPattern, found: Uint8Array): boolean {
  return pattern.anchors.some((anchor) => found[anchorIds.get(anchor)!] === 1);
}

function contextOk(pattern: SecretPattern, text: string, lines: Lines, start: number, end: number): boolean {
  const { context } = pattern;
  if (!context) return true;
  if (context.lines === undefined) return context.regex.test(text);
  const first = lines.lineOf(start);
  const last = lines.lineOf(end);
  const window = lines.slice(first - context.lines, last + context.lines);
  // The candidate itself must not count as its own evidence.
  return context.regex.test(window.replace(text.slice(start, end), ' '));
}

function isLocalHost(host: string | undefined): boolean {
  return !!host && /^(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]|host\.docker\.internal)$/i.test(host);
}

function providerMatches(text: string, lines: Lines, anchors: Uint8Array): SecretMatch[] {
  const found: SecretMatch[] = [];
  for (const pattern of SECRET_PATTERNS) {
    if (!hasAnchor(pattern, anchors) || (pattern.requires && !pattern.requires.test(text))) continue;
    pattern.regex.lastIndex = 0;
    for (const m of text.matchAll(pattern.regex)) {
      const groups = m.groups ?? {};
      const secret = groups.secret ?? m[0];
      const matchStart = m.index;
      const start = groups.secret !== undefined ? matchStart + m[0].lastIndexOf(secret) : matchStart;
      const end = start + secret.length;
      if (pattern.validate && !pattern.validate(secret)) continue;
      if (!pattern.checksum && isPlaceholder(secret)) continue;
      if (pattern.entropy && !entropyOk(secret, pattern.entropy)) continue;
      if (!contextOk(pattern, text, lines, start, end)) continue;
      found.push({
        pattern,
        severity: pattern.severityOf?.(groups) ?? pattern.severity,
        matchStart,
        matchEnd: matchStart + m[0].length,
        start,
        end,
        secret,
        providerSpecific: true,
        checksumVerified: pattern.checksum === true,
        local: pattern.id === 'secrets.database-url' ? isLocalHost(groups.host) : undefined,
      });
    }
  }
  return found;
}

function genericMatches(text: string, options: FindOptions, anchors: Uint8Array): SecretMatch[] {
  const found: SecretMatch[] = [];
  const hint = new RegExp(NAME_HINT.source, 'gi');
  let lastLineEnd = -1;
  const named = hintIds.some((id) => anchors[id] === 1);
  for (let m = named ? hint.exec(text) : null; m; m = hint.exec(text)) {
    if (m.index < lastLineEnd) continue;
    const lineStart = text.lastIndexOf('\n', m.index) + 1;
    const newline = text.indexOf('\n', m.index);
    const lineEnd = newline === -1 ? text.length : newline;
    lastLineEnd = lineEnd;
    hint.lastIndex = lineEnd;
    if (lineEnd - lineStart > MAX_GENERIC_LINE) continue;
    const line = text.slice(lineStart, lineEnd);
    const regexes = options.unquotedAssignments ? [QUOTED_ASSIGNMENT, UNQUOTED_ASSIGNMENT] : [QUOTED_ASSIGNMENT];
    for (const regex of regexes) {
      regex.lastIndex = 0;
      for (const a of line.matchAll(regex)) {
        const { name = '', value = '' } = a.groups ?? {};
        if (!SECRET_NAME.test(snakeCase(name))) continue;
        if (!(options.everyNamedValue ? isNamedValue(value) : looksRandom(value))) continue;
        const start = lineStart + a.index + a[0].lastIndexOf(value);
        found.push({
          pattern: GENERIC_ASSIGNMENT,
          severity: GENERIC_ASSIGNMENT.severity,
          matchStart: lineStart + a.index,
          matchEnd: lineStart + a.index + a[0].length,
          start,
          end: start + value.length,
          secret: value,
          providerSpecific: false,
          checksumVerified: false,
        });
      }
    }
  }
  if (text.includes('Bearer') || text.includes('Basic') || text.includes('token ')) {
    AUTHORIZATION.lastIndex = 0;
    for (const m of text.matchAll(AUTHORIZATION)) {
      const secret = m.groups?.secret ?? '';
      if (!looksRandom(secret)) continue;
      const start = m.index + m[0].lastIndexOf(secret);
      found.push({
        pattern: GENERIC_AUTHORIZATION,
        severity: GENERIC_AUTHORIZATION.severity,
        matchStart: m.index,
        matchEnd: m.index + m[0].length,
        start,
        end: start + secret.length,
        secret,
        providerSpecific: false,
        checksumVerified: false,
      });
    }
  }
  return found;
}

/**
 * Every credential in `text`, in text order, without overlaps: where matches overlap, the provider-specific
 * one listed first in the table wins over later and generic ones.
 */
export function findSecrets(text: string, options: FindOptions = {}): SecretMatch[] {
  const lines = new Lines(text);
  anchorSet ??= new LiteralSet(ANCHOR_WORDS);
  const anchors = anchorSet.scan(text);
  const candidates = providerMatches(text, lines, anchors);
  if (options.generic !== false) candidates.push(...genericMatches(text, options, anchors));
  const accepted: SecretMatch[] = [];
  for (const candidate of candidates) {
    const overlaps = accepted.some((a) => candidate.start < a.end && a.start < candidate.end);
    if (!overlaps) accepted.push(candidate);
  }
  return accepted.sort((a, b) => a.start - b.start);
}
