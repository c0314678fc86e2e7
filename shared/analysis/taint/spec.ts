/**
 * Taint specifications: sources, sinks, sanitizers and type hints per language, kept as YAML data under
 * `specs/` and validated on load so a malformed entry fails loudly instead of silently matching nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import type { Severity } from '../types.ts';

const names = v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1));

/** A call shape: method names on receivers of the given types (simple names), or constructors of `new` types. */
const CallMatcher = v.strictObject({
  /** Receiver types (simple names, e.g. `HttpServletRequest`) or static classes (e.g. `System`). */
  receivers: v.optional(names),
  /** Match these method names whatever the receiver (only for names specific enough to be unambiguous). */
  anyReceiver: v.optional(v.boolean()),
  methods: v.optional(names),
  /** Constructors (simple type names). */
  constructors: v.optional(names),
  /** Functions called without a receiver: builtins (`eval`), or an imported module called directly (`escape-html`). */
  functions: v.optional(names),
  /** Sources only: attribute reads on the receivers (`req.query`, `request.args`, `os.environ`, `r.URL`). */
  fields: v.optional(names),
});

/**
 * A condition on the call for a sink to apply: a keyword argument (Python) or options-object property (JS), or a
 * positional argument, whose source text matches `pattern`; with `unless`, the sink applies when it does not.
 * `type` instead requires the argument's resolved type (`fmt.Fprintf` to an `http.ResponseWriter`).
 */
const When = v.strictObject({
  keyword: v.optional(v.pipe(v.string(), v.minLength(1))),
  arg: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  pattern: v.optional(v.string()),
  type: v.optional(names),
  unless: v.optional(v.boolean()),
});

const Source = v.strictObject({
  ...CallMatcher.entries,
  label: v.string(),
  /** What the data is: `user` input (the default) or a `weak-random` value. */
  origin: v.optional(v.picklist(['user', 'weak-random'])),
});

const Sink = v.strictObject({
  ...CallMatcher.entries,
  kind: v.string(),
  /** Argument positions that must not be tainted; omitted means every argument. */
  args: v.optional(v.array(v.pipe(v.number(), v.integer(), v.minValue(0)))),
  /** Keyword arguments (Python) that must not be tainted either, when `args` limits the positions. */
  keywords: v.optional(names),
  /** Also a sink when the receiver itself is tainted. */
  receiver: v.optional(v.boolean()),
  origins: v.optional(v.array(v.picklist(['user', 'weak-random']))),
  when: v.optional(When),
});

/**
 * A check in a condition that makes a value safe inside the branch where it holds (`p.startsWith(base)`,
 * `ALLOWED.includes(url)`, `x in ALLOWED`): the checked value is the receiver, or the argument at `subject`.
 */
const Guard = v.strictObject({
  ...CallMatcher.entries,
  /** `in` for Python membership tests (`x in ALLOWED`). */
  operators: v.optional(names),
  subject: v.union([v.literal('receiver'), v.pipe(v.number(), v.integer(), v.minValue(0))]),
  kinds: names,
});

const Sanitizer = v.strictObject({
  ...CallMatcher.entries,
  /** Sink kinds the result is safe for; `all` for every injection kind. */
  kinds: names,
});

const TypeHint = v.strictObject({
  receivers: names,
  methods: names,
  returns: v.string(),
});

const Annotation = v.strictObject({ names, label: v.string() });

const Kind = v.strictObject({
  ruleId: v.pipe(v.string(), v.regex(/^[a-z]+\.[a-z0-9.-]+$/)),
  type: v.string(),
  severity: v.picklist(['critical', 'high', 'medium', 'low', 'info']),
  confidence: v.picklist(['high', 'medium', 'low']),
  message: v.string(),
  cwe: v.array(v.pipe(v.string(), v.regex(/^CWE-\d+$/))),
  owasp: v.string(),
  cvss: v.pipe(v.number(), v.minValue(0), v.maxValue(10)),
  references: v.optional(v.array(v.string())),
});

/** A check on the compile-time value of an argument (weak algorithms named through variables or settings). */
const ConstantCheck = v.strictObject({
  ...CallMatcher.entries,
  kind: v.string(),
  arg: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Case-insensitive regular expression the resolved value must match to be reported. */
  pattern: v.string(),
});

export const TaintSpecSchema = v.strictObject({
  language: v.string(),
  kinds: v.record(v.string(), Kind),
  sources: v.array(Source),
  parameterAnnotations: v.optional(v.array(Annotation)),
  sinks: v.array(Sink),
  sanitizers: v.array(Sanitizer),
  /** Methods whose result never carries data from the receiver or arguments (booleans, sizes, hashes). */
  cleanMethods: v.optional(v.array(v.string())),
  types: v.optional(v.array(TypeHint)),
  constantChecks: v.optional(v.array(ConstantCheck)),
  guards: v.optional(v.array(Guard)),
  /**
   * Decorators whose functions receive request data as parameters (`@app.get("/items/{id}")`, `@app.route`):
   * method names of the decorator call; parameters with a default call (`Depends(...)`) or a framework type
   * (`Request`) are not taken as input.
   */
  routeDecorators: v.optional(v.strictObject({ methods: names, label: v.string(), exceptTypes: v.optional(names) })),
});

export type TaintSpec = v.InferOutput<typeof TaintSpecSchema>;
export type CallMatcherSpec = v.InferOutput<typeof CallMatcher>;
export type SinkSpec = v.InferOutput<typeof Sink>;
export type SourceSpec = v.InferOutput<typeof Source>;
export type SanitizerSpec = v.InferOutput<typeof Sanitizer>;
export type ConstantCheckSpec = v.InferOutput<typeof ConstantCheck>;
export type GuardSpec = v.InferOutput<typeof Guard>;
export type WhenSpec = v.InferOutput<typeof When>;
export type KindSpec = v.InferOutput<typeof Kind> & { severity: Severity };
export type Origin = 'user' | 'weak-random';

export class TaintSpecError extends Error {
  readonly code = 'TAINT_SPEC_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TaintSpecError';
  }
}

/** Validates a parsed spec: the schema, then cross-references (every sink and check names a declared kind). */
export function validateTaintSpec(data: unknown, origin: string): TaintSpec {
  const result = v.safeParse(TaintSpecSchema, data);
  if (!result.success) {
    const issue = result.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new TaintSpecError(`${origin}: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid spec'}`);
  }
  const spec = result.output;
  const matchers: [string, CallMatcherSpec][] = [
    ...spec.sources.map((s, i): [string, CallMatcherSpec] => [`sources.${i}`, s]),
    ...spec.sinks.map((s, i): [string, CallMatcherSpec] => [`sinks.${i}`, s]),
    ...spec.sanitizers.map((s, i): [string, CallMatcherSpec] => [`sanitizers.${i}`, s]),
    ...(spec.constantChecks ?? []).map((s, i): [string, CallMatcherSpec] => [`constantChecks.${i}`, s]),
    ...(spec.guards ?? []).filter((g) => !g.operators).map((s, i): [string, CallMatcherSpec] => [`guards.${i}`, s]),
  ];
  for (const [where, m] of matchers) {
    if (!m.constructors && !m.methods && !m.functions && !m.fields) throw new TaintSpecError(`${origin}: ${where}: needs methods, functions, fields or constructors`);
    if ((m.methods || m.fields) && !m.receivers && !m.anyReceiver) {
      throw new TaintSpecError(`${origin}: ${where}: methods and fields need receivers or anyReceiver: true`);
    }
  }
  for (const [i, s] of spec.sinks.entries()) {
    const w = s.when;
    if (w && (w.keyword === undefined) === (w.arg === undefined)) throw new TaintSpecError(`${origin}: sinks.${i}.when: needs exactly one of keyword or arg`);
    if (w && (w.pattern === undefined) === (w.type === undefined)) throw new TaintSpecError(`${origin}: sinks.${i}.when: needs exactly one of pattern or type`);
    if (w?.pattern !== undefined) {
      try {
        new RegExp(w.pattern);
      } catch {
        throw new TaintSpecError(`${origin}: sinks.${i}.when.pattern: not a regular expression`);
      }
    }
  }
  for (const [i, s] of [...spec.sinks, ...(spec.constantChecks ?? [])].entries()) {
    if (!spec.kinds[s.kind]) throw new TaintSpecError(`${origin}: sink or check ${i} names unknown kind "${s.kind}"`);
  }
  for (const [where, list] of [['sanitizers', spec.sanitizers], ['guards', spec.guards ?? []]] as const) {
    for (const [i, s] of list.entries()) {
      for (const k of s.kinds) {
        if (k !== 'all' && !spec.kinds[k]) throw new TaintSpecError(`${origin}: ${where}.${i} names unknown kind "${k}"`);
      }
    }
  }
  return spec;
}

const cache = new Map<string, TaintSpec>();

/**
 * The bundled spec of a language, parsed and validated once per process. The CLI bundle ships the specs as
 * JSON (converted at build time), which parses in a fraction of the time YAML takes at start-up.
 */
export function loadTaintSpec(language: string): TaintSpec {
  const hit = cache.get(language);
  if (hit) return hit;
  const json = fileURLToPath(new URL(`./specs/${language}.json`, import.meta.url));
  const file = existsSync(json) ? json : fileURLToPath(new URL(`./specs/${language}.yml`, import.meta.url));
  const text = readFileSync(file, 'utf8');
  const spec = validateTaintSpec(file === json ? JSON.parse(text) : parseYaml(text), file);
  cache.set(language, spec);
  return spec;
}
