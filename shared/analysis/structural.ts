/**
 * The structural analyzer: runs a language's compiled rules on the file's shared parsed tree. A rule whose
 * literal anchors do not occur in the source is skipped without walking the tree, and the remaining rules run
 * as one combined `any` rule so the tree is walked once; each hit is then attributed to the rules it matches.
 */
import type { NapiConfig, Rule, SgNode } from '@ast-grep/napi';
import { LiteralSet } from './literal-set.ts';
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

/** Whether every anchor clause of a rule has a literal in the file, given which literals it contains. */
function anchorsPresent(clauses: readonly (readonly number[])[], found: Uint8Array): boolean {
  return clauses.every((clause) => clause.some((id) => found[id] === 1));
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

type Json = unknown;

/** Renames utility references (`matches`) through a name map. */
function renameUtils(value: Json, names: ReadonlyMap<string, string>): Json {
  if (Array.isArray(value)) return value.map((v) => renameUtils(v, names));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, Json> = {};
  for (const [key, v] of Object.entries(value)) out[key] = key === 'matches' && typeof v === 'string' ? (names.get(v) ?? v) : renameUtils(v, names);
  return out;
}

interface PlannedRule {
  readonly rule: CompiledRule;
  /** The rule and its utilities with names made unique, ready to join a combined config. */
  readonly combinedRule: Rule;
  readonly combinedUtils: Record<string, Rule>;
  /** Constraints apply to a whole config, so such rules cannot join a combined one. */
  readonly combinable: boolean;
  /** The rule's anchor clauses as indices into the plan's literals. */
  readonly clauses: readonly (readonly number[])[];
}

const MAX_CACHED_COMBINATIONS = 512;

/** The metavariable a combined config's branch at `position` binds to its match. */
function capture(position: number): string {
  return `CG_RULE_${position}`;
}

class LanguagePlan {
  private readonly combined = new Map<string, NapiConfig>();
  constructor(
    readonly rules: readonly PlannedRule[],
    /** Every anchor of the language's rules, found in a file in one pass. */
    readonly literals: LiteralSet,
  ) {}

  /**
   * Gives each utility a config-wide name. Rules of one pack share its utilities, so identical definitions
   * under the same name in the same pack get one name and are compiled once per combined config.
   */
  static of(rules: readonly CompiledRule[]): LanguagePlan {
    const shared = new Map<string, string>();
    const literalIds = new Map<string, number>();
    const idOf = (literal: string): number => {
      let id = literalIds.get(literal);
      if (id === undefined) literalIds.set(literal, (id = literalIds.size));
      return id;
    };
    const planned = rules.map((rule): PlannedRule => {
      const names = new Map<string, string>();
      for (const [name, util] of Object.entries(rule.config.utils ?? {})) {
        const key = `${rule.file}\0${name}\0${JSON.stringify(util)}`;
        let unique = shared.get(key);
        if (!unique) {
          unique = `u${shared.size}_${name}`;
          shared.set(key, unique);
        }
        names.set(name, unique);
      }
      const utils: Record<string, Rule> = {};
      for (const [name, util] of Object.entries(rule.config.utils ?? {})) utils[names.get(name) as string] = renameUtils(util, names) as Rule;
      const clauses = rule.anchors.map((clause) => clause.map(idOf));
      return { rule, combinedRule: renameUtils(rule.config.rule, names) as Rule, combinedUtils: utils, combinable: !rule.config.constraints, clauses };
    });
    return new LanguagePlan(planned, new LiteralSet([...literalIds.keys()]));
  }

  /**
   * One config matching any of the given rules; cached per set of rules, as files repeat the same sets. Each
   * branch binds {@link capture} of its position to the node, so a match tells which branch matched first.
   */
  combinedConfig(indices: readonly number[]): NapiConfig {
    const key = indices.join(',');
    let config = this.combined.get(key);
    if (!config) {
      const planned = indices.map((i) => this.rules[i] as PlannedRule);
      config = {
        rule: { any: planned.map((p, position) => ({ all: [p.combinedRule, { pattern: `$${capture(position)}` }] })) },
        utils: Object.assign({}, ...planned.map((p) => p.combinedUtils)),
      };
      if (this.combined.size >= MAX_CACHED_COMBINATIONS) this.combined.clear();
      this.combined.set(key, config);
    }
    return config;
  }
}

export function createStructuralAnalyzer(options: StructuralAnalyzerOptions = {}): Analyzer {
  const ruleSet = options.ruleSet ?? getRuleSet();
  const filter = options.ruleFilter;
  const rulesOf = new Map<LanguageId, readonly CompiledRule[]>();
  for (const [language, rules] of ruleSet.byLanguage) rulesOf.set(language, filter ? rules.filter(filter) : rules);
  // Planned on a language's first file: a worker that sees only Python files builds only Python's literal set.
  const plans = new Map<LanguageId, LanguagePlan>();
  return {
    id: 'structural',
    languages: [...rulesOf.entries()].filter(([, rules]) => rules.length > 0).map(([language]) => language),
    analyze(file: FileContext): RawFinding[] {
      if (!file.language) return [];
      const rules = rulesOf.get(file.language);
      if (!rules) return [];
      let plan = plans.get(file.language);
      if (!plan) plans.set(file.language, (plan = LanguagePlan.of(rules)));
      const findings: RawFinding[] = [];
      const found = plan.literals.scan(file.source);
      const combinable: number[] = [];
      const separate: CompiledRule[] = [];
      plan.rules.forEach((planned, i) => {
        if (!anchorsPresent(planned.clauses, found)) return;
        if (planned.combinable) combinable.push(i);
        else separate.push(planned.rule);
      });
      if (combinable.length === 0 && separate.length === 0) return findings;
      // Only now is the tree needed.
      const tree = file.root;
      if (!tree) return findings;
      const top = tree.root();
      if (combinable.length === 1) separate.push((plan.rules[combinable[0] as number] as PlannedRule).rule);
      else if (combinable.length > 1) {
        const candidates = top.findAll(plan.combinedConfig(combinable));
        for (const node of candidates) {
          // The first branch that matched bound its capture, and the ones before it did not match. Later ones
          // may match the same node too, which only asking them tells.
          const first = combinable.findIndex((_, position) => node.getMatch(capture(position)) !== null);
          combinable.forEach((i, position) => {
            const { rule } = plan.rules[i] as PlannedRule;
            if (position < first || (position > first && !node.matches(rule.config))) return;
            // Fix templates need the rule's own metavariables; `find` on a matching node returns the node itself.
            const match = rule.fix !== undefined && position !== first ? (node.find(rule.config) ?? node) : node;
            findings.push(toFinding(rule, match, file));
          });
        }
      }
      for (const rule of separate) {
        for (const node of top.findAll(rule.config)) findings.push(toFinding(rule, node, file));
      }
      return findings;
    },
  };
}
