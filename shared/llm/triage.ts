/**
 * Model triage of a scan's findings. The model cannot delete or dismiss anything: every finding comes back, in
 * order and unchanged, with an added `triage` that may lower its priority; a person decides its status.
 */
import type { Finding, FindingTriage } from '../analysis/types.ts';
import { redactSecrets } from '../domain/mask.ts';
import { findingExcerpts, type SourceFiles } from './context.ts';
import { triagePrompt } from './prompts/triage.ts';
import { runPrompt, type ModelContext } from './run.ts';
import type { ModelErrorCode, TokenUsage } from './provider.ts';

/** The answer plus model, prompt version and priority; `lowered` from a false positive at ≥ {@link LOWER_PRIORITY_CONFIDENCE}. */
export type { FindingTriage };

export type TriagedFinding<F extends Finding = Finding> = F & { readonly triage?: FindingTriage };

export interface TriageReport<F extends Finding = Finding> {
  /** The same findings, same order, each with `triage` when the model answered. */
  readonly findings: TriagedFinding<F>[];
  /** `budget_exhausted`: calls stopped when a token budget was spent; the rest are untriaged. */
  readonly status: 'complete' | 'partial' | 'budget_exhausted';
  readonly counts: { readonly triaged: number; readonly cached: number; readonly failed: number; readonly skipped: number; readonly notTriaged: number };
  readonly usage: TokenUsage & { readonly calls: number };
  /** Findings the model could not triage, with why (no model text). */
  readonly failures: readonly { readonly fingerprint: string; readonly code: ModelErrorCode }[];
}

export const LOWER_PRIORITY_CONFIDENCE = 0.5;
const DEFAULT_CONCURRENCY = 4;

/** Suppressed findings and the model's own findings are not triaged. */
function wantsTriage(finding: Finding): boolean {
  return finding.suppression === undefined && finding.kind !== 'model';
}

export async function triageFindings<F extends Finding>(
  findings: readonly F[],
  files: SourceFiles,
  options: ModelContext & { readonly concurrency?: number },
): Promise<TriageReport<F>> {
  const results: (FindingTriage | undefined)[] = new Array(findings.length).fill(undefined);
  const failures: { fingerprint: string; code: ModelErrorCode }[] = [];
  const usage = { inputTokens: 0, outputTokens: 0, calls: 0 };
  let cached = 0;
  let skipped = 0;
  let exhausted = false;
  const queue = findings.map((finding, index) => ({ finding, index })).filter(({ finding }) => {
    if (wantsTriage(finding)) return true;
    skipped += 1;
    return false;
  });

  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { finding, index } = next;
      const outcome = await runPrompt(triagePrompt, { finding, excerpts: findingExcerpts(finding, files) }, options);
      if (outcome.status === 'budget_exhausted') {
        // Stop starting calls; queued findings stay untriaged (cached answers were already free).
        exhausted = true;
        queue.length = 0;
        return;
      }
      if (outcome.status === 'failed') {
        failures.push({ fingerprint: finding.fingerprint, code: outcome.code });
        if (outcome.usage.inputTokens + outcome.usage.outputTokens > 0) usage.calls += 1;
        usage.inputTokens += outcome.usage.inputTokens;
        usage.outputTokens += outcome.usage.outputTokens;
        continue;
      }
      if (outcome.cached) cached += 1;
      else usage.calls += 1;
      usage.inputTokens += outcome.usage.inputTokens;
      usage.outputTokens += outcome.usage.outputTokens;
      const lowered = outcome.value.verdict === 'false_positive' && outcome.value.confidence >= LOWER_PRIORITY_CONFIDENCE;
      results[index] = {
        ...outcome.value,
        // Model text is shown to people and stored: it never carries a credential it may have echoed.
        reasoning: redactSecrets(outcome.value.reasoning),
        model: outcome.modelId,
        promptVersion: outcome.promptVersion,
        priority: lowered ? 'lowered' : 'normal',
        cached: outcome.cached,
      };
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, queue.length));
  await Promise.all(Array.from({ length: workers }, worker));

  const out = findings.map((finding, index): TriagedFinding<F> => {
    const triage = results[index];
    return triage ? { ...finding, triage } : { ...finding };
  });
  const triaged = results.filter(Boolean).length;
  const notTriaged = findings.length - skipped - triaged;
  return {
    findings: out,
    status: exhausted ? 'budget_exhausted' : notTriaged > 0 ? 'partial' : 'complete',
    counts: { triaged, cached, failed: failures.length, skipped, notTriaged },
    usage,
    failures,
  };
}
