/**
 * SARIF 2.1.0, as GitHub code scanning reads it: one run, rules with CWE tags and a `security-severity`
 * score, results with stable partial fingerprints, code flows for taint findings and in-source suppressions.
 */
import type { Log, ReportingDescriptor, Result, Location as SarifLocation, ThreadFlowLocation } from 'sarif';
import type { CompiledRule } from '../rule-pack.ts';
import type { ScanResult } from '../scanner.ts';
import type { Finding, Location, Severity } from '../types.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const FINGERPRINT_KEY = 'codeguardian/v1';
const INFORMATION_URI = 'https://github.com/codeguardian';

const LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
/** Used when a rule carries no CVSS score: the middle of each GitHub severity band. */
const DEFAULT_SCORE: Record<Severity, number> = { critical: 9.5, high: 8.0, medium: 5.5, low: 2.5, info: 0.0 };

export interface SarifOptions {
  readonly toolVersion: string;
  /** Metadata of the structural rules, used for the rule descriptors; other findings describe themselves. */
  readonly rules?: readonly CompiledRule[];
}

function cweTag(cwe: string): string {
  return `external/cwe/cwe-${cwe.replace(/^CWE-/i, '')}`;
}

function cweUri(cwe: string): string {
  return `https://cwe.mitre.org/data/definitions/${cwe.replace(/^CWE-/i, '')}.html`;
}

function ruleName(id: string): string {
  const tail = id.slice(id.indexOf('.') + 1);
  return tail.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}

function descriptor(finding: Finding, rule: CompiledRule | undefined): ReportingDescriptor {
  const severity = rule?.severity ?? finding.severity;
  const cwe = rule?.cwe ?? finding.cwe;
  const references = rule?.references ?? finding.references ?? [];
  const message = rule?.message ?? finding.message;
  const helpUri = references[0] ?? (cwe[0] ? cweUri(cwe[0]) : INFORMATION_URI);
  const cvss = rule?.cvss ?? finding.cvss ?? DEFAULT_SCORE[severity];
  const fix = rule?.fixDescription ? `\n\nAutomatic fix: ${rule.fixDescription}` : '';
  return {
    id: finding.ruleId,
    name: ruleName(finding.ruleId),
    shortDescription: { text: rule?.type ?? finding.type },
    fullDescription: { text: message },
    help: {
      text: `${message}${fix}\n\n${references.join('\n')}`.trim(),
      markdown: `${message}${fix}\n\n${[...cwe.map((c) => `[${c}](${cweUri(c)})`), ...references.map((r) => `<${r}>`)].join('  \n')}`.trim(),
    },
    helpUri,
    defaultConfiguration: { level: LEVEL[severity] },
    properties: {
      tags: ['security', ...cwe.map(cweTag), ...(rule?.owasp ?? finding.owasp ? [`owasp/${(rule?.owasp ?? finding.owasp ?? '').split('-')[0]}`] : [])],
      'security-severity': cvss.toFixed(1),
      precision: rule?.confidence ?? finding.confidence,
      kind: finding.kind,
    },
  };
}

function physical(location: Location, snippet?: string): SarifLocation {
  return {
    physicalLocation: {
      artifactLocation: { uri: encodeURI(location.path), uriBaseId: '%SRCROOT%' },
      region: {
        startLine: location.startLine,
        startColumn: location.startColumn,
        endLine: location.endLine,
        // SARIF end columns point just past the last character.
        endColumn: location.endColumn + 1,
        ...(snippet !== undefined ? { snippet: { text: snippet } } : {}),
      },
    },
  };
}

function toResult(finding: Finding, ruleIndex: number): Result {
  const result: Result = {
    ruleId: finding.ruleId,
    ruleIndex,
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [physical(finding.location, finding.snippet)],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    properties: { severity: finding.severity, confidence: finding.confidence, cwe: [...finding.cwe], type: finding.type },
  };
  if (finding.dataflow && finding.dataflow.length > 0) {
    const steps: ThreadFlowLocation[] = finding.dataflow.map((step) => ({ location: { ...physical(step), message: { text: step.label } } }));
    result.codeFlows = [{ threadFlows: [{ locations: steps }] }];
  }
  if (finding.fix) {
    result.fixes = [
      {
        description: { text: finding.fix.description },
        artifactChanges: [
          {
            artifactLocation: { uri: encodeURI(finding.location.path), uriBaseId: '%SRCROOT%' },
            replacements: finding.fix.edits.map((e) => ({
              deletedRegion: { byteOffset: e.startByte, byteLength: e.endByte - e.startByte },
              insertedContent: { text: e.replacement },
            })),
          },
        ],
      },
    ];
  }
  if (finding.suppression) {
    result.suppressions = [{ kind: finding.suppression.kind === 'config' ? 'external' : 'inSource', justification: finding.suppression.reason }];
  }
  return result;
}

export function toSarif(result: ScanResult, options: SarifOptions): Log {
  const known = new Map((options.rules ?? []).map((r) => [r.id, r]));
  const rules: ReportingDescriptor[] = [];
  const index = new Map<string, number>();
  const all = [...result.findings, ...result.suppressed];
  for (const f of all) {
    if (index.has(f.ruleId)) continue;
    index.set(f.ruleId, rules.length);
    rules.push(descriptor(f, known.get(f.ruleId)));
  }
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'CodeGuardian',
            version: options.toolVersion,
            semanticVersion: options.toolVersion,
            informationUri: INFORMATION_URI,
            rules,
            properties: { rulesetVersion: result.rulesetVersion },
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { description: { text: 'The root of the scanned directory.' } } },
        columnKind: 'utf16CodeUnits',
        invocations: [
          {
            executionSuccessful: result.errors.length === 0,
            toolExecutionNotifications: result.errors.map((e) => ({
              level: 'warning' as const,
              message: { text: `${e.analyzer ? `[${e.analyzer}] ` : ''}${e.message}` },
              locations: [{ physicalLocation: { artifactLocation: { uri: encodeURI(e.path), uriBaseId: '%SRCROOT%' } } }],
            })),
          },
        ],
        results: all.map((f) => toResult(f, index.get(f.ruleId) as number)),
      },
    ],
  };
}

export function toSarifText(result: ScanResult, options: SarifOptions): string {
  return `${JSON.stringify(toSarif(result, options), null, 2)}\n`;
}
