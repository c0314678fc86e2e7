/**
 * The secret analyzer: provider formats and high-entropy assignments in every text file, with the secret
 * masked in the snippet and message it reports (the scanner fingerprints the masked snippet, so the raw
 * value never reaches storage, reports or logs).
 */
import { maskSecret, redactSecrets } from '../../domain/mask.ts';
import type { Analyzer, Confidence, FileContext, RawFinding, Severity } from '../types.ts';
import { findSecrets, type SecretMatch } from './detect.ts';
import { isLockFile, isMinified, isNonProductionPath } from './paths.ts';

export { findSecrets } from './detect.ts';
export { SECRET_PATTERNS, SECRET_RULE_IDS } from './patterns.ts';

const TYPE = 'Hard-coded Secret';
const OWASP = 'A07:2021-Identification and Authentication Failures';
const CWE_798 = 'https://cwe.mitre.org/data/definitions/798.html';
const CVSS: Record<Severity, number> = { critical: 9.1, high: 7.5, medium: 5.3, low: 3.1, info: 0 };
/** Characters of code kept on each side of the secret in a snippet. */
const SNIPPET_CONTEXT = 80;

/** Provider rules that recognise a secret only by what surrounds it rather than by its own format. */
const CONTEXTUAL = new Set(['secrets.aws-secret-access-key', 'secrets.twilio-auth-token', 'secrets.jwt']);

function confidenceOf(match: SecretMatch, nonProduction: boolean): Confidence {
  if (nonProduction) return match.checksumVerified ? 'medium' : 'low';
  if (match.local) return 'low';
  if (!match.providerSpecific || CONTEXTUAL.has(match.pattern.id)) return 'medium';
  return 'high';
}

/** 1-based line and column of an offset. */
function position(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** The code around the secret on its first and last lines, with the secret and any other secret masked. */
function snippetOf(source: string, match: SecretMatch): string {
  const lineStart = source.lastIndexOf('\n', match.matchStart - 1) + 1;
  const newline = source.indexOf('\n', match.end);
  const lineEnd = newline === -1 ? source.length : newline;
  const before = source.slice(Math.max(lineStart, match.start - SNIPPET_CONTEXT), match.start).replace(/\s+/g, ' ');
  const after = source.slice(match.end, Math.min(lineEnd, match.end + SNIPPET_CONTEXT));
  return (redactSecrets(before) + maskSecret(match.secret) + redactSecrets(after)).trim();
}

function toFinding(file: FileContext, match: SecretMatch, nonProduction: boolean): RawFinding {
  const start = position(file.source, match.matchStart);
  const end = position(file.source, Math.max(match.start, match.matchEnd - 1));
  const masked = maskSecret(match.secret);
  return {
    ruleId: match.pattern.id,
    kind: 'secret',
    type: TYPE,
    message: `${match.pattern.type} in the code: ${masked}. Revoke it and load the value from a secret store or the environment instead.`,
    severity: match.severity,
    confidence: confidenceOf(match, nonProduction),
    cwe: match.pattern.cwe,
    owasp: OWASP,
    cvss: CVSS[match.severity],
    references: [CWE_798, ...(match.pattern.references ?? [])],
    location: {
      path: file.path,
      startLine: start.line,
      startColumn: start.column,
      endLine: end.line,
      endColumn: end.column,
    },
    snippet: snippetOf(file.source, match),
  };
}

/** Detect secrets in one file's text. */
export function analyzeSecrets(file: FileContext): RawFinding[] {
  const { path, source } = file;
  if (source.length === 0 || isLockFile(path) || isMinified(path, source) || source.includes('\0')) return [];
  const nonProduction = isNonProductionPath(path);
  const matches = findSecrets(source, {
    // Only provider formats are trusted in tests and docs, where made-up values are the norm.
    generic: !nonProduction,
    // Files without a parser are configuration (.env, YAML, properties, Dockerfiles, shell): values there
    // need no quotes.
    unquotedAssignments: file.language === undefined,
  });
  return matches.map((match) => toFinding(file, match, nonProduction));
}

export function createSecretAnalyzer(): Analyzer {
  return { id: 'secrets', languages: 'all', analyze: analyzeSecrets };
}
