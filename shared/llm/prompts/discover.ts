import * as v from 'valibot';
import { redactSecrets } from '../../domain/mask.ts';
import { around, mergeWindows, numberedLines, untrustedBlock, type LineWindow } from '../untrusted.ts';
import { analystPreamble, type PromptTemplate } from './template.ts';

export const DiscoveredSchema = v.object({
  line: v.pipe(v.number(), v.integer(), v.minValue(1), v.description('The changed line where the vulnerability is')),
  type: v.pipe(v.string(), v.minLength(3), v.maxLength(80), v.description('Category, e.g. "SQL Injection"')),
  cwe: v.pipe(v.string(), v.regex(/^CWE-\d{1,4}$/), v.description('e.g. CWE-89')),
  severity: v.picklist(['critical', 'high', 'medium', 'low']),
  message: v.pipe(v.string(), v.minLength(1), v.maxLength(600), v.description('What is wrong and why it is exploitable')),
  confidence: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});

export const DiscoverySchema = v.object({
  findings: v.pipe(v.array(DiscoveredSchema), v.maxLength(20), v.description('Vulnerabilities in the changed lines; empty when there are none')),
});
export type DiscoveryAnswer = v.InferOutput<typeof DiscoverySchema>;

export interface DiscoveryInput {
  readonly path: string;
  readonly language: string | undefined;
  readonly lines: readonly string[];
  /** The changed lines (1-based, inclusive). */
  readonly changed: readonly LineWindow[];
  /** Rule ids and lines already reported here, so the model looks for what rules cannot see. */
  readonly known: readonly { readonly line: number; readonly type: string }[];
}

/** Unchanged lines shown around each changed region, for context. */
export const DISCOVERY_CONTEXT_LINES = 5;
/** At most this many lines of one file per call. */
export const MAX_DISCOVERY_LINES = 300;

/** The numbered windows a discovery call shows: changed regions plus context, capped. */
export function discoveryWindows(input: Pick<DiscoveryInput, 'lines' | 'changed'>): LineWindow[] {
  const count = input.lines.length;
  const padded = mergeWindows(input.changed.map((w) => around(w.start, w.end, count, DISCOVERY_CONTEXT_LINES)));
  const out: LineWindow[] = [];
  let budget = MAX_DISCOVERY_LINES;
  for (const w of padded) {
    if (budget <= 0) break;
    const end = Math.min(w.end, w.start + budget - 1);
    budget -= end - w.start + 1;
    out.push({ start: w.start, end });
  }
  return out;
}

function inChanged(line: number, changed: readonly LineWindow[]): boolean {
  return changed.some((w) => line >= w.start && line <= w.end);
}

function renderCode(input: DiscoveryInput): string[] {
  return discoveryWindows(input).map((w) => redactSecrets(numberedLines(input.lines, w)));
}

/** Discovery, in changed code, of what rules cannot see (authorisation, business logic, unsafe combinations). */
export const discoverPrompt: PromptTemplate<DiscoveryInput, typeof DiscoverySchema> = {
  id: 'discover',
  version: 1,
  role: 'main',
  toolName: 'report_vulnerabilities',
  toolDescription: 'Report the vulnerabilities found in the changed lines (an empty list when there are none).',
  schema: DiscoverySchema,
  maxTokens: 2000,
  temperature: 0,
  system: (boundary) =>
    analystPreamble(
      boundary,
      [
        'Task: review changed lines of a file for security vulnerabilities that pattern rules miss: missing authorisation or ownership checks, insecure direct object references, logic flaws, unsafe combinations of calls, missing validation of security-relevant input.',
        'Report only real, exploitable problems located on a changed line, with the line number as shown. Do not repeat the already reported findings. An empty list is a good answer when the change is safe.',
      ].join(' '),
    ),
  render: (input, boundary) => {
    const changed = input.changed.map((w) => (w.start === w.end ? `${w.start}` : `${w.start}-${w.end}`)).join(', ');
    const known = input.known.map((k) => `${k.line}: ${k.type}`).join('\n') || 'none';
    const code = renderCode(input)
      .map((text, i) => {
        const w = discoveryWindows(input)[i] as LineWindow;
        return untrustedBlock(boundary, `file ${input.path} lines ${w.start}-${w.end}`, text);
      })
      .join('\n\n');
    return [
      `Review the changes to ${input.path}${input.language ? ` (${input.language})` : ''}. Changed lines: ${changed}.`,
      untrustedBlock(boundary, 'already reported findings', known),
      code,
    ].join('\n\n');
  },
  cacheContent: (input) => JSON.stringify({ path: input.path, language: input.language, changed: input.changed, known: input.known, code: renderCode(input) }),
  check: (output, input) =>
    output.findings.flatMap((f, i) => (inChanged(f.line, input.changed) ? [] : [`findings.${i}.line ${f.line} is not a changed line`])),
};
