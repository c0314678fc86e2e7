import { applyEdits } from '../analysis/apply-fixes.ts';
import { detectLanguage } from '../analysis/languages.ts';
import { scanFiles } from '../analysis/scanner.ts';
import type { Finding, LanguageId } from '../analysis/types.ts';
import { modelConfigured } from '../llm/models.ts';
import { proposeModelFix } from '../llm/model-fix.ts';
import type { UsageScope } from '../llm/accounting.ts';
import { buildRuleFix } from './rewrites/index.ts';

// Building a fix: find the vulnerability in the file as it is at the fix's base commit, then take the rule's
// rewrite, or, when the rule has none and a model is configured, the model's fix. Whatever is built goes through
// the same validation afterwards.

/** Confidence of a rule rewrite by the finding's own confidence. */
const RULE_FIX_CONFIDENCE: Readonly<Record<Finding['confidence'], number>> = { high: 0.95, medium: 0.85, low: 0.7 };

/** What identifies a stored vulnerability in a file. */
export interface FindingTarget {
  readonly ruleId: string;
  readonly fingerprint: string;
  readonly filePath: string;
  readonly lineNumber: number;
}

export interface BuiltFix {
  readonly finding: Finding;
  readonly language: LanguageId;
  readonly after: string;
  readonly description: string;
  readonly source: 'rule' | 'model';
  /** 0–1. */
  readonly confidence: number;
}

export type NotBuilt = { readonly code: 'FINDING_NOT_IN_FILE' | 'UNSUPPORTED_LANGUAGE' | 'NO_FIX_AVAILABLE' | 'MODEL_FIX_FAILED'; readonly reason: string };
export type BuildOutcome = ({ readonly ok: true } & BuiltFix) | ({ readonly ok: false } & NotBuilt);

/** A model that proposes a fix for a finding in a file: the whole file after the change, or why it could not. */
export type ModelFixer = (finding: Finding, source: string) => Promise<{ after: string; description: string; confidence: number } | { error: string }>;

/**
 * The finding of `target` in `source`: the same fingerprint, otherwise the same rule nearest to the stored line
 * (a fingerprint follows the code, so a moved line still matches; an edited one matches by rule and place).
 */
export function locateFinding(target: FindingTarget, source: string, findings?: readonly Finding[]): Finding | undefined {
  const all = findings ?? scanFiles([{ path: target.filePath, source }]).findings;
  const exact = all.find((f) => f.fingerprint === target.fingerprint);
  if (exact) return exact;
  const sameRule = all.filter((f) => f.ruleId === target.ruleId && f.location.path === target.filePath);
  return sameRule.sort((a, b) => Math.abs(a.location.startLine - target.lineNumber) - Math.abs(b.location.startLine - target.lineNumber))[0];
}

/** The platform's model as a {@link ModelFixer}, or undefined when no model is configured. */
export function platformModelFixer(scope: UsageScope): ModelFixer | undefined {
  if (!modelConfigured('main')) return undefined;
  return async (finding, source) => {
    const outcome = await proposeModelFix(finding, source, { scope });
    if (outcome.status === 'budget_exhausted') return { error: 'The model token budget is used up for today' };
    if (outcome.status === 'failed') return { error: `The model could not propose a fix (${outcome.code}): ${outcome.message}` };
    const fix = outcome.value;
    return { after: applyEdits(source, [fix.edit]), description: fix.explanation, confidence: fix.confidence };
  };
}

/** Build the change for one finding of `source` (the file at the base commit). */
export async function buildFixFor(finding: Finding, source: string, model?: ModelFixer): Promise<BuildOutcome> {
  const language = detectLanguage(finding.location.path, source);
  if (!language) return { ok: false, code: 'UNSUPPORTED_LANGUAGE', reason: `No parser handles ${finding.location.path}, so a fix cannot be validated` };
  const rule = buildRuleFix(finding, source);
  if (rule) {
    return { ok: true, finding, language, after: rule.after, description: rule.description, source: 'rule', confidence: RULE_FIX_CONFIDENCE[finding.confidence] };
  }
  if (!model) {
    return { ok: false, code: 'NO_FIX_AVAILABLE', reason: `The rule ${finding.ruleId} has no mechanical rewrite for this code and no AI model is configured` };
  }
  const proposed = await model(finding, source);
  if ('error' in proposed) return { ok: false, code: 'MODEL_FIX_FAILED', reason: proposed.error };
  return { ok: true, finding, language, after: proposed.after, description: proposed.description, source: 'model', confidence: proposed.confidence };
}

/** Locate the stored vulnerability in `source` and build its fix. */
export async function buildFix(target: FindingTarget, source: string, model?: ModelFixer): Promise<BuildOutcome> {
  const finding = locateFinding(target, source);
  if (!finding) {
    return { ok: false, code: 'FINDING_NOT_IN_FILE', reason: `${target.filePath} at the fix's base commit no longer contains this finding` };
  }
  return buildFixFor(finding, source, model);
}
