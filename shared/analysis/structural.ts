/**
 * The structural analyzer: runs a language's compiled rules on the file's shared parsed tree. A rule whose
 * literal anchors do not occur in the source is skipped without walking the tree.
 */
import type { SgNode } from '@ast-grep/napi';
import { getRuleSet, type CompiledRule, type RuleSet } from './rule-pack.ts';
import type { Analyzer, Edit, FileContext, LanguageId, RawFinding } from './types.ts';

export const MAX_SNIPPET_LENGTH = 400;

export interface StructuralAnalyzerOptions {
  readonly ruleSet?: RuleSet;
  /** Rules for which this returns false are not run. */
  readonly ruleFilter?: (rule: CompiledRule) => boolean;
}

const META = /\$\$\$([A-Z_][A-Z0-9_]*)|\$([A-Z_][A-Z0-9_]*)/g;

/** Expands a rewrite template with the match's metavariables; `$$$ARGS` keeps the original separators. */
export function expandFixTemplate(template: string, node: SgNode, source: string): string {
  return template.replace(META, (_all, multi: string | undefined, single: string | undefined) => {
    if (multi) {
      const nodes = node.getMultipleMatches(multi);
      const first = nodes[0];
      const last = nodes[nodes.length - 1];
      if (!first || !last) return '';
      return source.slice(first.range().start.index, last.range().end.index);
    }
    return node.getMatch(single ?? '')?.text() ?? '';
  });
}

/** UTF-16 string index → UTF-8 byte offset, the unit of `Edit`. */
export function byteOffset(source: string, index: number): number {
  return Buffer.byteLength(source.slice(0, index), 'utf8');
}

function truncate(text: string): string {
  return text.length > MAX_SNIPPET_LENGTH ? `${text.slice(0, MAX_SNIPPET_LENGTH)}…` : text;
}

export function anchorsPresent(rule: CompiledRule, source: string): boolean {
  return rule.anchors === undefined || rule.anchors.some((a) => source.includes(a));
}

function toFinding(rule: CompiledRule, node: SgNode, file: FileContext): RawFinding {
  const { start, end } = node.range();
  let fix: RawFinding['fix'];
  if (rule.fix !== undefined && rule.fixDescription !== undefined) {
    const edit: Edit = {
      startByte: byteOffset(file.source, start.index),
      endByte: byteOffset(file.source, end.index),
      replacement: expandFixTemplate(rule.fix, node, file.source),
    };
    fix = { description: rule.fixDescription, edits: [edit] };
  }
  return {
    ruleId: rule.id,
    kind: 'rule',
    type: rule.type,
    message: rule.message,
    severity: rule.severity,
    confidence: rule.confidence,
    cwe: rule.cwe,
    ...(rule.owasp ? { owasp: rule.owasp } : {}),
    ...(rule.cvss !== undefined ? { cvss: rule.cvss } : {}),
    ...(rule.references ? { references: rule.references } : {}),
    location: {
      path: file.path,
      startLine: start.line + 1,
      startColumn: start.column + 1,
      endLine: end.line + 1,
      endColumn: Math.max(1, end.column),
    },
    snippet: truncate(node.text()),
    ...(fix ? { fix } : {}),
  };
}

export function createStructuralAnalyzer(options: StructuralAnalyzerOptions = {}): Analyzer {
  const ruleSet = options.ruleSet ?? getRuleSet();
  const filter = options.ruleFilter;
  const perLanguage = new Map<LanguageId, readonly CompiledRule[]>();
  for (const [language, rules] of ruleSet.byLanguage) perLanguage.set(language, filter ? rules.filter(filter) : rules);
  return {
    id: 'structural',
    languages: [...perLanguage.entries()].filter(([, rules]) => rules.length > 0).map(([language]) => language),
    analyze(file: FileContext): RawFinding[] {
      if (!file.language || !file.root) return [];
      const rules = perLanguage.get(file.language) ?? [];
      const findings: RawFinding[] = [];
      const top = file.root.root();
      for (const rule of rules) {
        if (!anchorsPresent(rule, file.source)) continue;
        for (const node of top.findAll(rule.config)) findings.push(toFinding(rule, node, file));
      }
      return findings;
    },
  };
}
