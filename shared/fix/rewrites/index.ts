/**
 * The rule rewrites: a finding's mechanical fix, either the `fix` template of its structural rule or a fixer
 * registered here by rule id (structural or taint). `codeguardian scan --fix`, the fix workflow and the benchmark
 * all build fixes through `rewriteFor`/`buildRuleFix`.
 */
import { detectLanguage, parseSource } from '../../analysis/languages.ts';
import { getRuleSet, type CompiledRule } from '../../analysis/rule-pack.ts';
import { expandFixTemplate } from '../../analysis/structural.ts';
import type { Finding, LanguageId } from '../../analysis/types.ts';
import { goFixers } from './go.ts';
import { javaFixers } from './java.ts';
import { javascriptFixers } from './javascript.ts';
import { pathFixers } from './paths.ts';
import { pythonFixers } from './python.ts';
import { xssFixers } from './xss.ts';
import type { SgRoot } from '@ast-grep/napi';
import { applyEdits, nodeAt, replaceNode, type Fixer, type FixerEntry, type Rewrite } from './support.ts';

export type { Fixer, FixerEntry, Rewrite, RewriteContext } from './support.ts';

const ENTRIES: readonly FixerEntry[] = [...javaFixers, ...pythonFixers, ...javascriptFixers, ...goFixers, ...pathFixers, ...xssFixers];

const FIXERS: ReadonlyMap<string, Fixer> = (() => {
  const map = new Map<string, Fixer>();
  for (const entry of ENTRIES) {
    for (const id of entry.ruleIds) {
      if (map.has(id)) throw new Error(`two fixers registered for ${id}`);
      map.set(id, entry.fix);
    }
  }
  return map;
})();

/** Rule ids that have a code fixer. */
export function fixerRuleIds(): string[] {
  return [...FIXERS.keys()].sort();
}

/** Whether findings of this rule have a mechanical rewrite (a code fixer or a rule `fix` template). */
export function hasRewrite(ruleId: string): boolean {
  return FIXERS.has(ruleId) || getRuleSet().rules.some((r) => r.id === ruleId && r.fix !== undefined);
}

/** Structural rules with a template, and the node kinds their matches can have, for re-locating a finding. */
function templateRule(ruleId: string): CompiledRule | undefined {
  return getRuleSet().rules.find((r) => r.id === ruleId && r.fix !== undefined && r.fixDescription !== undefined);
}

/** Re-runs the rule's match on this source and expands its template at the match the finding points at. */
function templateRewrite(rule: CompiledRule, finding: Finding, source: string, language: LanguageId, root: SgRoot): Rewrite | undefined {
  if (!rule.languages.includes(language) || rule.fix === undefined || rule.fixDescription === undefined) return undefined;
  const { startLine, startColumn } = finding.location;
  const matches = root.root().findAll(rule.config);
  const node =
    matches.find((n) => n.range().start.line === startLine - 1 && n.range().start.column === startColumn - 1) ??
    matches.find((n) => n.range().start.line === startLine - 1);
  if (!node) return undefined;
  const replacement = expandFixTemplate(rule.fix, node, source);
  return { description: rule.fixDescription, edits: [replaceNode(source, node, replacement)] };
}

/**
 * The rewrite of one finding in `source` (the file the finding was reported in), or undefined when its rule has
 * none or the code there has a shape no rewrite handles safely.
 */
export function rewriteFor(finding: Finding, source: string): Rewrite | undefined {
  const language = detectLanguage(finding.location.path, source);
  if (!language) return undefined;
  const root = parseSource(language, source);
  const own = rewriteByRule(finding.ruleId, finding, source, language, root);
  if (own || finding.kind !== 'taint') return own;
  // A taint flow ends at a sink that structural rules of the same weakness also know: their rewrites check the
  // sink's shape themselves (one vulnerability, one finding, so the structural hit was merged into this one).
  for (const rule of getRuleSet().rules) {
    if (rule.id === finding.ruleId || !rule.languages.includes(language) || !rule.cwe.some((c) => finding.cwe.includes(c))) continue;
    const rewrite = rewriteByRule(rule.id, finding, source, language, root);
    if (rewrite) return rewrite;
  }
  return undefined;
}

function rewriteByRule(ruleId: string, finding: Finding, source: string, language: LanguageId, root: SgRoot): Rewrite | undefined {
  const fixer = FIXERS.get(ruleId);
  if (fixer) return fixer({ finding, language, source, root });
  const rule = templateRule(ruleId);
  return rule ? templateRewrite(rule, finding, source, language, root) : undefined;
}

/** The whole file after the finding's rewrite, for the fix workflow. */
export function buildRuleFix(finding: Finding, content: string): { after: string; description: string } | undefined {
  const rewrite = rewriteFor(finding, content);
  if (!rewrite || rewrite.edits.length === 0) return undefined;
  const after = applyEdits(content, dedupeEdits(rewrite.edits));
  return after === content ? undefined : { after, description: rewrite.description };
}

/** Drops repeated identical edits (two fixes adding the same import). */
export function dedupeEdits<T extends { startByte: number; endByte: number; replacement: string }>(edits: readonly T[]): T[] {
  const seen = new Set<string>();
  return edits.filter((e) => {
    const key = `${e.startByte}:${e.endByte}:${e.replacement}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export { nodeAt };
