/**
 * Rule packs: YAML files under rules/<language>/ holding `rules:` lists. Every rule is validated (the error
 * names the file and the rule id), compiled once per language against the real grammar, and cached.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NapiConfig, Rule } from '@ast-grep/napi';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { LANGUAGE_IDS, parseSource } from './languages.ts';
import type { LanguageId } from './types.ts';

export const ENGINE_VERSION = '1.0.0';

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

const RULE_DIRS = ['javascript', 'python', 'java', 'go'] as const;
const JS_FAMILY: readonly LanguageId[] = ['javascript', 'typescript', 'tsx'];

const AstGrepRuleSchema = v.pipe(
  v.record(v.string(), v.unknown()),
  v.check((r) => Object.keys(r).length > 0, 'an ast-grep rule needs at least one of pattern, kind, regex, has, inside, all, any, not, matches'),
);

const RuleSchema = v.pipe(
  v.strictObject({
    id: v.pipe(v.string(), v.regex(/^(javascript|typescript|python|java|go)\.[a-z0-9]+(?:-[a-z0-9]+)*$/, 'id must be <language>.<kebab-name>')),
    languages: v.pipe(v.array(v.picklist(LANGUAGE_IDS)), v.minLength(1, 'languages must not be empty')),
    type: v.pipe(v.string(), v.minLength(1)),
    severity: v.picklist(['critical', 'high', 'medium', 'low', 'info']),
    confidence: v.picklist(['high', 'medium', 'low']),
    message: v.pipe(v.string(), v.minLength(1)),
    cwe: v.pipe(v.array(v.pipe(v.string(), v.regex(/^CWE-\d+$/, 'cwe entries look like CWE-89'))), v.minLength(1)),
    owasp: v.optional(v.pipe(v.string(), v.regex(/^A\d{2}:2021-.+/, 'owasp looks like A03:2021-Injection'))),
    cvss: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(10))),
    references: v.optional(v.array(v.pipe(v.string(), v.url()))),
    rule: AstGrepRuleSchema,
    constraints: v.optional(v.record(v.string(), AstGrepRuleSchema)),
    utils: v.optional(v.record(v.string(), AstGrepRuleSchema)),
    fix: v.optional(v.string()),
    fixDescription: v.optional(v.pipe(v.string(), v.minLength(1))),
  }),
  v.check((r) => r.fix === undefined || r.fixDescription !== undefined, 'fixDescription is required when fix is present'),
);

/** A pack is a `rules:` list, optionally with `utils:` shared by every rule of the file. */
const PackSchema = v.strictObject({
  utils: v.optional(v.record(v.string(), AstGrepRuleSchema)),
  rules: v.array(v.unknown()),
});

export type RuleDefinition = v.InferOutput<typeof RuleSchema>;

export interface CompiledRule extends RuleDefinition {
  /** The pack file, relative to the rules directory. */
  readonly file: string;
  readonly config: NapiConfig;
  /**
   * Literal words of which at least one must occur in a file for the rule to possibly match; undefined when the
   * rule has no such anchor. Checking these with `includes` skips most rules on most files without a tree walk.
   */
  readonly anchors: readonly string[] | undefined;
}

export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly byLanguage: ReadonlyMap<LanguageId, readonly CompiledRule[]>;
  /** Hash of every rule file and the engine version: part of the cache key of scan results. */
  readonly version: string;
}

export class RulePackError extends Error {
  readonly code = 'INVALID_RULE_PACK';
  constructor(
    readonly file: string,
    readonly ruleId: string | undefined,
    detail: string,
  ) {
    super(`${file}${ruleId ? ` rule ${ruleId}` : ''}: ${detail}`);
    this.name = 'RulePackError';
  }
}

function issuesText(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues.map((i) => `${v.getDotPath(i) ?? '(rule)'}: ${i.message}`).join('; ');
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

/** Anchors of a pattern: its longest literal identifier (metavariables excluded). */
function patternAnchors(pattern: unknown): string[] | undefined {
  const text = typeof pattern === 'string' ? pattern : (pattern as { context?: unknown })?.context;
  if (typeof text !== 'string') return undefined;
  const withoutMeta = text.replace(/\$\$?\$?[A-Z_][A-Z0-9_]*/g, ' ');
  // A selector picks a sub-node of the context, so only words inside the selected node are guaranteed.
  if (typeof pattern !== 'string') return undefined;
  const words = withoutMeta.match(IDENT) ?? [];
  const best = words.reduce<string | undefined>((a, w) => (w.length > (a?.length ?? 2) ? w : a), undefined);
  return best ? [best] : undefined;
}

/**
 * Anchors of a `regex`: its leading literal (`^md5\\.` → `md5`) or a leading group of plain alternatives
 * (`^(eval|exec)\\b` → eval, exec). Case-insensitive patterns give none.
 */
export function regexAnchors(regex: unknown): string[] | undefined {
  if (typeof regex !== 'string' || regex.startsWith('(?i)')) return undefined;
  const body = regex.replace(/^\^/, '');
  const group = /^\(((?:\w+\|)*\w+)\)/.exec(body);
  if (group) {
    const words = (group[1] as string).split('|');
    return words.every((w) => w.length >= 3) ? words : undefined;
  }
  const literal = /^(?:\w|\\\.)+/.exec(body)?.[0].replace(/\\\./g, '.');
  const word = literal?.match(IDENT)?.reduce((a, w) => (w.length > a.length ? w : a), '');
  return word && word.length >= 3 ? [word] : undefined;
}

/** Anchors of a whole rule: necessary words, as a disjunction; undefined when nothing is guaranteed. */
export function ruleAnchors(rule: Rule | undefined, utils: Record<string, unknown> = {}, seen = new Set<string>()): string[] | undefined {
  if (!rule || typeof rule !== 'object') return undefined;
  const candidates: string[][] = [];
  const add = (a: string[] | undefined) => {
    if (a && a.length > 0) candidates.push(a);
  };
  if (rule.pattern !== undefined) add(patternAnchors(rule.pattern));
  if (rule.regex !== undefined) add(regexAnchors(rule.regex));
  if (rule.has) add(ruleAnchors(rule.has, utils, seen));
  if (rule.inside) add(ruleAnchors(rule.inside, utils, seen));
  if (rule.precedes) add(ruleAnchors(rule.precedes, utils, seen));
  if (rule.follows) add(ruleAnchors(rule.follows, utils, seen));
  if (rule.all) for (const sub of rule.all) add(ruleAnchors(sub, utils, seen));
  if (rule.any) {
    const parts = rule.any.map((sub) => ruleAnchors(sub, utils, seen));
    if (parts.every((p): p is string[] => p !== undefined)) add([...new Set(parts.flat())]);
  }
  if (typeof rule.matches === 'string' && !seen.has(rule.matches)) {
    seen.add(rule.matches);
    add(ruleAnchors(utils[rule.matches] as Rule | undefined, utils, seen));
  }
  // Any one necessary condition will do; the one with the fewest alternatives filters best.
  candidates.sort((a, b) => a.length - b.length || Math.min(...b.map((w) => w.length)) - Math.min(...a.map((w) => w.length)));
  return candidates[0];
}

function effectiveLanguages(dir: string, languages: readonly LanguageId[]): LanguageId[] {
  if (dir === 'javascript' && languages.length === 1 && languages[0] === 'javascript') return [...JS_FAMILY];
  return [...languages];
}

function listPackFiles(rulesDir: string): string[] {
  const files: string[] = [];
  for (const dir of RULE_DIRS) {
    const full = join(rulesDir, dir);
    let entries: string[];
    try {
      if (!statSync(full).isDirectory()) continue;
      entries = readdirSync(full);
    } catch {
      continue;
    }
    for (const name of entries.sort()) if (/\.ya?ml$/.test(name)) files.push(join(full, name));
  }
  return files;
}

/** Loads, validates and compiles every pack under rulesDir. Throws RulePackError on the first bad rule. */
export function loadRuleSet(rulesDir: string = DEFAULT_RULES_DIR): RuleSet {
  const hash = createHash('sha256').update(`engine:${ENGINE_VERSION}\n`);
  const rules: CompiledRule[] = [];
  const ids = new Map<string, string>();
  for (const path of listPackFiles(rulesDir)) {
    const file = relative(rulesDir, path).split('\\').join('/');
    const dir = file.split('/')[0] ?? '';
    const text = readFileSync(path, 'utf8');
    hash.update(`${file}\n${text}\n`);
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new RulePackError(file, undefined, `invalid YAML: ${(err as Error).message}`);
    }
    const pack = v.safeParse(PackSchema, doc);
    if (!pack.success) throw new RulePackError(file, undefined, `expected a top-level "rules:" list (${issuesText(pack.issues)})`);
    for (const [index, raw] of pack.output.rules.entries()) {
      const rawId = (raw as { id?: unknown } | null)?.id;
      const label = typeof rawId === 'string' ? rawId : `#${index + 1}`;
      const parsed = v.safeParse(RuleSchema, raw);
      if (!parsed.success) throw new RulePackError(file, label, issuesText(parsed.issues));
      const def = parsed.output;
      if (!def.id.startsWith(`${dir}.`) && !(dir === 'javascript' && def.id.startsWith('typescript.'))) {
        throw new RulePackError(file, def.id, `rule id must start with "${dir}." to live in rules/${dir}/`);
      }
      const previous = ids.get(def.id);
      if (previous) throw new RulePackError(file, def.id, `duplicate rule id (first defined in ${previous})`);
      ids.set(def.id, file);
      const languages = effectiveLanguages(dir, def.languages);
      const utils = { ...(pack.output.utils ?? {}), ...(def.utils ?? {}) } as Record<string, Rule>;
      const config: NapiConfig = {
        rule: def.rule as Rule,
        ...(def.constraints ? { constraints: def.constraints as Record<string, Rule> } : {}),
        ...(Object.keys(utils).length > 0 ? { utils } : {}),
      };
      for (const language of languages) {
        try {
          // Compiling against the real grammar surfaces bad kinds, patterns and utils at load time.
          parseSource(language, '').root().findAll(config);
        } catch (err) {
          throw new RulePackError(file, def.id, `does not compile for ${language}: ${(err as Error).message.split('\n').join(' ')}`);
        }
      }
      rules.push({ ...def, languages, file, config, anchors: ruleAnchors(config.rule, utils) });
    }
  }
  const byLanguage = new Map<LanguageId, CompiledRule[]>();
  for (const language of LANGUAGE_IDS) byLanguage.set(language, rules.filter((r) => r.languages.includes(language)));
  return { rules, byLanguage, version: hash.digest('hex').slice(0, 16) };
}

const cache = new Map<string, RuleSet>();

/** The rule set of a directory, loaded once per process. */
export function getRuleSet(rulesDir: string = DEFAULT_RULES_DIR): RuleSet {
  let set = cache.get(rulesDir);
  if (!set) {
    set = loadRuleSet(rulesDir);
    cache.set(rulesDir, set);
  }
  return set;
}
