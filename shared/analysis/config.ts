/**
 * Repository configuration, `.codeguardian.yml`. Parsed with a strict schema: an unknown key or a wrong type is
 * an error naming the key, never silently ignored.
 */
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import type { Severity } from './types.ts';

export const CONFIG_FILE_NAME = '.codeguardian.yml';
export const DEFAULT_MAX_FILE_SIZE = 1024 * 1024;
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1000 ** 2, mib: 1024 ** 2 };

const FileSizeSchema = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(1)),
    v.pipe(
      v.string(),
      v.regex(/^\s*\d+(\.\d+)?\s*(b|kb|kib|mb|mib)\s*$/i, 'a size such as 1048576, "512KiB" or "2MiB"'),
      v.transform((s) => {
        const [, num, unit] = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(s) as RegExpExecArray;
        return Math.round(Number(num) * (SIZE_UNITS[(unit as string).toLowerCase()] ?? 1));
      }),
    ),
  ],
  'maxFileSize must be a positive number of bytes or a size such as "512KiB"',
);

const RuleRefSchema = v.pipe(v.string(), v.minLength(1, 'rule references must not be empty'));

export const ConfigSchema = v.strictObject({
  ignore: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
  rules: v.optional(
    v.strictObject({
      disable: v.optional(v.array(RuleRefSchema), []),
      enable: v.optional(v.array(RuleRefSchema), []),
    }),
    {},
  ),
  severityThreshold: v.optional(v.picklist(SEVERITIES), 'low'),
  autoFix: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean(), false),
      maxOpenPullRequests: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 5),
      maxPullRequestsPerDay: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 10),
      minConfidence: v.optional(v.picklist(['high', 'medium', 'low']), 'high'),
    }),
    {},
  ),
  maxFileSize: v.optional(FileSizeSchema, DEFAULT_MAX_FILE_SIZE),
});

export type ScanConfig = v.InferOutput<typeof ConfigSchema>;

export const DEFAULT_CONFIG: ScanConfig = v.parse(ConfigSchema, {});

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Validates an already-parsed configuration object. */
export function parseConfig(value: unknown, source = CONFIG_FILE_NAME): ScanConfig {
  // An empty file is a valid, default configuration.
  const result = v.safeParse(ConfigSchema, value ?? {});
  if (!result.success) {
    const detail = result.issues.map((i) => `${v.getDotPath(i) ?? '(top level)'}: ${i.message}`).join('; ');
    throw new ConfigError(source, detail);
  }
  return result.output;
}

/** Parses the text of a `.codeguardian.yml`. */
export function parseConfigText(text: string, source = CONFIG_FILE_NAME): ScanConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(source, `invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseConfig(doc, source);
}

function matchesRef(ref: string, ruleId: string, cwe: readonly string[]): boolean {
  const r = ref.trim();
  return /^cwe-\d+$/i.test(r) ? cwe.some((c) => c.toUpperCase() === r.toUpperCase()) : r === ruleId;
}

/** A rule is off when `disable` names it (by id or CWE) and `enable` does not name it back. */
export function isRuleEnabled(config: Pick<ScanConfig, 'rules'>, ruleId: string, cwe: readonly string[]): boolean {
  const { disable = [], enable = [] } = config.rules;
  if (!disable.some((ref) => matchesRef(ref, ruleId, cwe))) return true;
  return enable.some((ref) => matchesRef(ref, ruleId, cwe));
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}
