/**
 * Discovery in changed code: only changed regions (with a little context) go to the model, and what it reports
 * becomes model-found findings with confidence capped at medium, on changed lines only.
 */
import type { Finding, LanguageId, Severity } from '../analysis/types.ts';
import { redactSecrets } from '../domain/mask.ts';
import { fingerprintAll } from '../domain/fingerprint.ts';
import { discoverPrompt } from './prompts/discover.ts';
import { runPrompt, type ModelContext } from './run.ts';
import type { ModelErrorCode, TokenUsage } from './provider.ts';
import { sourceLines, type LineWindow } from './untrusted.ts';

export interface ChangedFile {
  readonly path: string;
  readonly language: LanguageId | undefined;
  readonly source: string;
  /** Changed lines of the new version, 1-based inclusive. */
  readonly changed: readonly LineWindow[];
}

export interface DiscoveryReport {
  readonly findings: Finding[];
  readonly status: 'complete' | 'partial' | 'budget_exhausted';
  readonly usage: TokenUsage & { readonly calls: number };
  readonly failures: readonly { readonly path: string; readonly code: ModelErrorCode }[];
}

/** Model confidence at or above this becomes `medium`; below, `low`. Never `high`. */
export const MEDIUM_CONFIDENCE_FROM = 0.7;

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export async function discoverInChangedCode(
  files: readonly ChangedFile[],
  known: readonly Finding[],
  ctx: ModelContext,
): Promise<DiscoveryReport> {
  const findings: Finding[] = [];
  const failures: { path: string; code: ModelErrorCode }[] = [];
  const usage = { inputTokens: 0, outputTokens: 0, calls: 0 };
  let status: DiscoveryReport['status'] = 'complete';
  for (const file of files) {
    const lines = sourceLines(file.source);
    const changed = file.changed
      .map((w) => ({ start: Math.max(1, w.start), end: Math.min(lines.length, w.end) }))
      .filter((w) => w.end >= w.start);
    if (changed.length === 0) continue;
    const knownHere = known.filter((f) => f.location.path === file.path).map((f) => ({ line: f.location.startLine, type: f.type }));
    const outcome = await runPrompt(discoverPrompt, { path: file.path, language: file.language, lines, changed, known: knownHere }, ctx);
    if (outcome.status === 'budget_exhausted') {
      status = 'budget_exhausted';
      break;
    }
    usage.inputTokens += outcome.usage.inputTokens;
    usage.outputTokens += outcome.usage.outputTokens;
    if (outcome.status === 'failed') {
      failures.push({ path: file.path, code: outcome.code });
      status = 'partial';
      continue;
    }
    if (!outcome.cached) usage.calls += 1;
    const raw = outcome.value.findings.map((f) => {
      const text = lines[f.line - 1] ?? '';
      const indent = text.length - text.trimStart().length;
      return {
        ruleId: `model/${slug(f.cwe)}`,
        kind: 'model' as const,
        type: f.type,
        message: redactSecrets(f.message),
        severity: f.severity as Severity,
        confidence: f.confidence >= MEDIUM_CONFIDENCE_FROM ? ('medium' as const) : ('low' as const),
        cwe: [f.cwe],
        location: { path: file.path, startLine: f.line, startColumn: indent + 1, endLine: f.line, endColumn: text.length + 1 },
        snippet: redactSecrets(text.trim()),
      };
    });
    findings.push(...fingerprintAll(raw, file.language === 'python' ? 'hash' : 'c'));
  }
  return { findings, status, usage, failures };
}
