/**
 * Rule packs: YAML files under rules/<language>/ holding `rules:` lists. Every rule is validated (the error
 * names the file and the rule id), compiled once per language against the real grammar, and cached.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NapiConfig, Rule } from '@ast-grep/napi';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { LANGUAGE_IDS, parseSource } from './languages.ts';
import { BOUNDARY } from './literal-set.ts';
import type { LanguageId } from './types.ts';

/** Part of the ruleset version: bumped when the compiled form of rules or the analyzers' behaviour changes. */
export const ENGINE_VERSION = '1.2.0';

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
   * Clauses of lower-cased literals: each clause needs one of its literals in the file for the rule to possibly
   * match (empty: no guarantee). Checking these with `includes` skips most rules on most files without a walk.
   */
  readonly anchors: readonly (readonly string[])[];
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
  // Patterns match identifiers exactly, so the word keeps its case.
  return best ? [best] : undefined;
}

/** Splits a regex at its top-level `|`. */
function splitAlternatives(re: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let last = 0;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(re.slice(last, i));
      last = i + 1;
    }
  }
  parts.push(re.slice(last));
  return parts;
}

/** Index just past the group or class opening at `i`. */
function closing(re: string, i: number): number {
  const open = re[i];
  let depth = 0;
  for (let j = i; j < re.length; j++) {
    const c = re[j];
    if (c === '\\') j++;
    else if (open === '[') {
      if (c === ']' && j > i) return j + 1;
    } else if (c === '[') j = closing(re, j) - 1;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return j + 1;
  }
  return re.length;
}

/** Alternatives a product of literal pieces may grow to before it is cut into separate clauses. */
const MAX_LITERALS = 64;

/**
 * The finite set of strings a regex (or group body) matches when it is only literals, groups of literals and
 * alternatives, e.g. `(fs|fsp)\\.(read|write)` gives four; undefined when anything else is in it.
 */
function exactStrings(re: string): string[] | undefined {
  const out: string[] = [];
  for (const alt of splitAlternatives(re)) {
    let strings = [''];
    for (let i = 0; i < alt.length; ) {
      const c = alt[i] as string;
      let piece: string[] | undefined;
      let next = i + 1;
      if (c === '\\') {
        const e = alt[i + 1] ?? '';
        next = i + 2;
        piece = /[.\-/'"$^*+?()[\]{}|\\]/.test(e) ? [e] : undefined;
      } else if (c === '(') {
        next = closing(alt, i);
        const inner = alt.slice(i + 1, next - 1);
        piece = inner.startsWith('?') && !inner.startsWith('?:') ? undefined : exactStrings(inner.replace(/^\?:/, ''));
      } else if (!'[.^$|*+?{'.includes(c)) piece = [c];
      if (!piece || /^[?*+{]/.test(alt.slice(next))) return undefined;
      strings = strings.flatMap((s) => piece.map((p) => s + p));
      if (strings.length > MAX_LITERALS) return undefined;
      i = next;
    }
    out.push(...strings);
    if (out.length > MAX_LITERALS) return undefined;
  }
  return out;
}

/**
 * Literal text that every match of a regex must contain, as alternatives: as written when the regex is
 * case-sensitive, lower-cased under `(?i)`. Parses just enough regex syntax: literal runs, groups, classes,
 * escapes, quantifiers.
 * Consecutive literals and groups of literals join into one clause of whole strings (`(req|request)\\.(body|query)`
 * gives `req.body`, `request.query`, …), which occur in far fewer files than any of their parts.
 */
export function regexAnchors(regex: unknown, ignoreCase = false): string[][] {
  if (typeof regex !== 'string') return [];
  // `(?i)` (flags before any `-`) makes the literals case-insensitive: they are then lower-cased.
  const fold = ignoreCase || /^\(\?[a-zA-Z]*i[a-zA-Z-]*\)/.test(regex);
  const cased = (w: string) => (fold ? w.toLowerCase() : w);
  const body = regex.replace(/^\(\?[a-zA-Z-]+\)/, '');
  const whole = wholeNodeStrings(body);
  if (whole) return whole.every(usefulAnchor) ? [[...new Set(whole.map((w) => wordBounded(cased(w))))]] : [];
  const alternatives = splitAlternatives(body);
  if (alternatives.length > 1) {
    const parts = alternatives.map((alt) => bestAnchors(regexAnchors(alt, fold)));
    return parts.every((p): p is string[] => p !== undefined) ? [[...new Set(parts.flat())]] : [];
  }
  const re = alternatives[0] ?? '';
  const candidates: string[][] = [];
  // Every match contains one of these strings, ending at the current position.
  let runs = [''];
  // A run joined with a case-insensitive group may occur in any case as a whole.
  let runFolded = false;
  const flush = () => {
    const words = [...new Set(runs.map((r) => (runFolded ? r.toLowerCase() : cased(r))))];
    if (words.every(usefulAnchor)) candidates.push(words);
    runs = [''];
    runFolded = false;
  };
  let i = 0;
  while (i < re.length) {
    const c = re[i] as string;
    let item: { literal?: string; exact?: string[]; folded?: boolean; group?: string[][] } = {};
    let next = i + 1;
    if (c === '\\') {
      const e = re[i + 1] ?? '';
      next = i + 2;
      item = /[.\-/'"$^*+?()[\]{}|]/.test(e) ? { literal: e } : {};
    } else if (c === '(') {
      next = closing(re, i);
      const lookaround = re[i + 1] === '?' && /^\?[=!<]/.test(re.slice(i + 1));
      const inner = re.slice(i + 1, next - 1).replace(/^\?(?:[:=!]|<[=!]|[a-zA-Z]*:)/, '');
      const groupFold = fold || /^\?[a-zA-Z]*i[a-zA-Z-]*:/.test(re.slice(i + 1));
      const exact = lookaround ? undefined : exactStrings(inner)?.map((e) => (groupFold ? e.toLowerCase() : e));
      item = lookaround ? { group: [] } : exact ? { exact, folded: groupFold } : { group: regexAnchors(inner, groupFold) };
    } else if (c === '[') {
      next = closing(re, i);
    } else if (!'.^$|'.includes(c)) {
      item = { literal: c };
    }
    const q = re.slice(next);
    const optional = /^(\?|\*|\{0[,}])/.test(q);
    const quantified = optional || /^(\+|\{\d)/.test(q);
    if (item.literal !== undefined && !optional) {
      runs = runs.map((r) => r + item.literal);
      if (quantified) flush();
    } else if (item.exact && !quantified) {
      const exact = item.exact;
      if (runs.length * exact.length > MAX_LITERALS) flush();
      runs = runs.flatMap((r) => exact.map((e) => r + e));
      runFolded ||= item.folded === true;
    } else {
      flush();
      if (item.exact && !optional) candidates.push([...new Set(item.exact.map(cased))]);
      else if (item.group && !optional) candidates.push(...item.group);
    }
    i = next;
    const quantifier = /^(?:[?*+]|\{\d*,?\d*\})\??/.exec(re.slice(i));
    if (quantifier) i += quantifier[0].length;
  }
  flush();
  return candidates.filter((c) => c.length > 0 && c.every(usefulAnchor));
}

/**
 * The strings a regex `^…$` of only literals and groups of literals matches: the whole text of the node it
 * tests, e.g. `^(eval|exec)$`. Undefined for any other regex.
 */
function wholeNodeStrings(re: string): string[] | undefined {
  if (!re.startsWith('^') || !re.endsWith('$') || re.endsWith('\\$')) return undefined;
  return exactStrings(re.slice(1, -1));
}

/**
 * A node's whole text is made of whole tokens, so a literal that is all of it and starts or ends with a word
 * character occurs in the source as a whole word on that side: `^(eval|exec)$` needs `eval` or `exec` as words,
 * not `evaluate` or `execute`.
 */
function wordBounded(literal: string): string {
  const word = /[A-Za-z0-9_]/;
  return `${word.test(literal[0] ?? '') ? BOUNDARY : ''}${literal}${word.test(literal[literal.length - 1] ?? '') ? BOUNDARY : ''}`;
}

/** Three letters, or two characters with punctuation in them (`][`, `)+`), are selective enough to check. */
function usefulAnchor(word: string): boolean {
  return word.length >= 3 || (word.length === 2 && /[^A-Za-z0-9_]/.test(word));
}

/** A literal's length without its boundary marks. */
function bareLength(word: string): number {
  return word.length - (word.startsWith(BOUNDARY) ? BOUNDARY.length : 0) - (word.endsWith(BOUNDARY) && word.length > BOUNDARY.length ? BOUNDARY.length : 0);
}

/**
 * Of several necessary conditions, the one that filters best: the longest shortest word (long literals are
 * rare in code), then the fewest alternatives.
 */
function bestAnchors(candidates: readonly string[][]): string[] | undefined {
  const useful = candidates.filter((c) => c.length > 0 && c.every(usefulAnchor));
  const shortest = (c: readonly string[]) => Math.min(...c.map(bareLength));
  useful.sort((a, b) => shortest(b) - shortest(a) || a.length - b.length);
  return useful[0];
}

/**
 * Anchors of a whole rule as a conjunction of clauses, each clause a disjunction of literals: a file can only
 * match when every clause has a literal in it. A literal with a capital letter must occur as written; one
 * without, in any case. Empty when nothing is guaranteed.
 */
export function ruleAnchors(rule: Rule | undefined, utils: Record<string, unknown> = {}, seen: ReadonlySet<string> = new Set()): string[][] {
  if (!rule || typeof rule !== 'object') return [];
  const clauses: string[][] = [];
  const add = (clause: string[] | undefined) => {
    if (clause && clause.length > 0 && clause.every(usefulAnchor)) clauses.push(clause);
  };
  if (rule.pattern !== undefined) add(patternAnchors(rule.pattern));
  if (rule.regex !== undefined) clauses.push(...regexAnchors(rule.regex));
  for (const sub of [rule.has, rule.inside, rule.precedes, rule.follows, ...(rule.all ?? [])]) {
    if (sub) clauses.push(...ruleAnchors(sub, utils, seen));
  }
  if (rule.any) {
    // A disjunction is necessary only if every branch guarantees something; take each branch's best clause.
    const branches = rule.any.map((sub) => bestAnchors(ruleAnchors(sub, utils, seen)));
    if (branches.every((b): b is string[] => b !== undefined)) add([...new Set(branches.flat())]);
  }
  if (typeof rule.matches === 'string' && !seen.has(rule.matches)) {
    clauses.push(...ruleAnchors(utils[rule.matches] as Rule | undefined, utils, new Set([...seen, rule.matches])));
  }
  return clauses;
}

const ASCII_CLASSES: Record<string, [inside: string, outside: string]> = {
  w: ['0-9A-Za-z_', '[0-9A-Za-z_]'],
  d: ['0-9', '[0-9]'],
  s: ['\\t\\n\\x0B\\f\\r ', '[\\t\\n\\x0B\\f\\r ]'],
  W: ['', '[^0-9A-Za-z_]'],
  D: ['', '[^0-9]'],
  S: ['', '[^\\t\\n\\x0B\\f\\r ]'],
};

/**
 * Rewrites `\\w`, `\\d` and `\\s` as ASCII classes. The regex engine compiles Unicode classes into large
 * automata on every match call (the napi binding has no compiled-rule handle), which cost more than the tree
 * walk itself; source code identifiers are ASCII in practice.
 */
export function asciiRegex(re: string): string {
  // Case-insensitive matching without Unicode case folding, where the engine allows it (no `.` or negated
  // class, which could match invalid UTF-8 in byte mode).
  if (re.startsWith('(?i)') && !/(^|[^\\])(\.|\[\^)|\\[WSD]/.test(re)) re = `(?i-u)${re.slice(4)}`;
  let out = '';
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i] as string;
    if (c === '\\') {
      const e = re[i + 1] ?? '';
      const swap = ASCII_CLASSES[e];
      const replacement = swap ? swap[inClass ? 0 : 1] : '';
      out += replacement ? replacement : c + e;
      i++;
    } else {
      if (c === '[' && !inClass) inClass = true;
      else if (c === ']' && inClass && re[i - 1] !== '[' && !(re[i - 1] === '^' && re[i - 2] === '[')) inClass = false;
      out += c;
    }
  }
  return out;
}

function cheapenRegexes<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cheapenRegexes(v)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = key === 'regex' && typeof v === 'string' ? asciiRegex(v) : cheapenRegexes(v);
  return out as T;
}

const ATOMIC_COST: Record<string, number> = { kind: 1, nthChild: 1, range: 1, pattern: 3, regex: 4 };
const RELATIONAL = ['has', 'inside', 'precedes', 'follows'] as const;

/** A rough cost of evaluating a rule at one node: searches that may visit a whole subtree or file weigh most. */
function ruleCost(rule: unknown, utils: Record<string, unknown>, seen: ReadonlySet<string> = new Set()): number {
  if (!rule || typeof rule !== 'object') return 0;
  const r = rule as Record<string, unknown>;
  let cost = 0;
  for (const [key, weight] of Object.entries(ATOMIC_COST)) if (r[key] !== undefined) cost += weight;
  for (const key of RELATIONAL) {
    const sub = r[key] as Record<string, unknown> | undefined;
    if (!sub) continue;
    const inner = ruleCost(sub, utils, seen);
    // `stopBy: end` (or a rule) walks every descendant or ancestor; a field or neighbour is one node.
    cost += sub.stopBy !== undefined && sub.stopBy !== 'neighbor' ? 30 + 20 * inner : sub.field !== undefined ? 1 + inner : 3 + 2 * inner;
  }
  for (const sub of [...((r.all as unknown[]) ?? []), ...((r.any as unknown[]) ?? []), r.not]) cost += ruleCost(sub, utils, seen);
  if (typeof r.matches === 'string' && !seen.has(r.matches)) cost += ruleCost(utils[r.matches], utils, new Set([...seen, r.matches]));
  return cost;
}

/**
 * Puts a rule's conditions in the order that fails fastest. ast-grep checks a rule object's atomic keys, then
 * its `all`/`any`/`not`/`matches`, then its relational keys; so a cheap `has: { field, regex }` beside an
 * `all` that searches a whole subtree ran after that search at every candidate node. Each object becomes its
 * atomic keys plus one `all` of its other conditions, cheapest first. A conjunction's meaning does not depend
 * on its order; `any` keeps its order, as the first branch that matches binds the metavariables.
 */
export function orderForSpeed<T>(rule: T, utils: Record<string, unknown>): T {
  if (Array.isArray(rule)) return rule.map((r) => orderForSpeed(r, utils)) as T;
  if (!rule || typeof rule !== 'object') return rule;
  const r = rule as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const conjuncts: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(r)) {
    if (key in ATOMIC_COST || key === 'stopBy' || key === 'field') out[key] = key === 'stopBy' ? orderForSpeed(value, utils) : value;
    else if (key === 'all') conjuncts.push(...(value as unknown[]).map((v) => orderForSpeed(v as Record<string, unknown>, utils)));
    else if (key === 'any') conjuncts.push({ any: (value as unknown[]).map((v) => orderForSpeed(v, utils)) });
    else conjuncts.push({ [key]: orderForSpeed(value, utils) });
  }
  if (conjuncts.length === 1 && !('all' in r)) Object.assign(out, conjuncts[0]);
  else if (conjuncts.length > 0) {
    const costs = new Map(conjuncts.map((c) => [c, ruleCost(c, utils)]));
    out.all = [...conjuncts].sort((a, b) => (costs.get(a) ?? 0) - (costs.get(b) ?? 0));
  }
  return out as T;
}

/** Only the utilities a rule reaches through `matches`, so unused ones are not compiled on every call. */
function referencedUtils(rule: unknown, utils: Record<string, unknown>): Record<string, unknown> {
  const used: Record<string, unknown> = {};
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    for (const [key, v] of Object.entries(value)) {
      if (key === 'matches' && typeof v === 'string' && !(v in used) && v in utils) {
        used[v] = utils[v];
        visit(utils[v]);
      } else visit(v);
    }
  };
  visit(rule);
  return used;
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

/**
 * A compiled rule set saved beside the packs (by the CLI build): loaded instead of parsing and compiling the
 * YAML again when its version, the hash of every pack file, still matches the files on disk.
 */
export const RULE_SNAPSHOT_FILE = 'compiled.json';

interface RuleSnapshot {
  readonly version: string;
  readonly rules: readonly CompiledRule[];
}

function groupByLanguage(rules: readonly CompiledRule[]): Map<LanguageId, readonly CompiledRule[]> {
  const byLanguage = new Map<LanguageId, CompiledRule[]>();
  for (const language of LANGUAGE_IDS) byLanguage.set(language, rules.filter((r) => r.languages.includes(language)));
  return byLanguage;
}

function readSnapshot(rulesDir: string, version: string): readonly CompiledRule[] | undefined {
  let snapshot: RuleSnapshot;
  try {
    snapshot = JSON.parse(readFileSync(join(rulesDir, RULE_SNAPSHOT_FILE), 'utf8')) as RuleSnapshot;
  } catch {
    return undefined;
  }
  return snapshot.version === version && Array.isArray(snapshot.rules) ? snapshot.rules : undefined;
}

/** Saves a loaded rule set as the snapshot of its directory. */
export function writeRuleSnapshot(set: RuleSet, rulesDir: string): void {
  writeFileSync(join(rulesDir, RULE_SNAPSHOT_FILE), JSON.stringify({ version: set.version, rules: set.rules } satisfies RuleSnapshot));
}

/** Loads, validates and compiles every pack under rulesDir. Throws RulePackError on the first bad rule. */
export function loadRuleSet(rulesDir: string = DEFAULT_RULES_DIR): RuleSet {
  const hash = createHash('sha256').update(`engine:${ENGINE_VERSION}\n`);
  const packs = listPackFiles(rulesDir).map((path) => {
    const file = relative(rulesDir, path).split('\\').join('/');
    const text = readFileSync(path, 'utf8');
    hash.update(`${file}\n${text}\n`);
    return { file, text };
  });
  const version = hash.digest('hex').slice(0, 16);
  const snapshot = readSnapshot(rulesDir, version);
  if (snapshot) return { rules: snapshot, byLanguage: groupByLanguage(snapshot), version };
  const rules: CompiledRule[] = [];
  const ids = new Map<string, string>();
  for (const { file, text } of packs) {
    const dir = file.split('/')[0] ?? '';
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
      const utils = cheapenRegexes(referencedUtils([def.rule, def.constraints], { ...(pack.output.utils ?? {}), ...(def.utils ?? {}) })) as Record<string, Rule>;
      const rule = cheapenRegexes(def.rule) as Rule;
      const config: NapiConfig = {
        rule: orderForSpeed(rule, utils),
        ...(def.constraints ? { constraints: cheapenRegexes(def.constraints) as Record<string, Rule> } : {}),
        ...(Object.keys(utils).length > 0 ? { utils: Object.fromEntries(Object.entries(utils).map(([name, util]) => [name, orderForSpeed(util, utils)])) } : {}),
      };
      for (const language of languages) {
        try {
          // Compiling against the real grammar surfaces bad kinds, patterns and utils at load time.
          parseSource(language, '').root().findAll(config);
        } catch (err) {
          throw new RulePackError(file, def.id, `does not compile for ${language}: ${(err as Error).message.split('\n').join(' ')}`);
        }
      }
      rules.push({ ...def, languages, file, config, anchors: ruleAnchors(rule, utils) });
    }
  }
  return { rules, byLanguage: groupByLanguage(rules), version };
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
