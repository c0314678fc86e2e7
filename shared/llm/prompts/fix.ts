import * as v from 'valibot';
import { findingBlocks, findingCacheContent, type Excerpt, type FindingBrief } from '../context.ts';
import { analystPreamble, type PromptTemplate } from './template.ts';

export const FixSchema = v.object({
  startLine: v.pipe(v.number(), v.integer(), v.minValue(1), v.description('First line replaced (1-based, as numbered in the excerpt)')),
  endLine: v.pipe(v.number(), v.integer(), v.minValue(1), v.description('Last line replaced, inclusive')),
  replacement: v.pipe(v.string(), v.maxLength(8000), v.description('The new text for those lines, complete lines, original indentation, without line numbers')),
  explanation: v.pipe(v.string(), v.minLength(1), v.maxLength(2000), v.description('What the change does and why it removes the vulnerability')),
  confidence: v.pipe(v.number(), v.minValue(0), v.maxValue(1), v.description('How sure you are the change is correct and complete, 0 to 1')),
});
export type FixAnswer = v.InferOutput<typeof FixSchema>;

/** The replaced lines must lie within this many lines of the finding. */
export const FIX_WINDOW_LINES = 20;

export interface FixInput {
  readonly finding: FindingBrief;
  readonly excerpts: readonly Excerpt[];
  /** Lines in the finding's file. */
  readonly lineCount: number;
}

/** A fix as the replacement of one line range near the finding. */
export const fixPrompt: PromptTemplate<FixInput, typeof FixSchema> = {
  id: 'fix',
  version: 1,
  role: 'main',
  toolName: 'propose_fix',
  toolDescription: 'Propose the smallest replacement of a line range that removes the vulnerability.',
  schema: FixSchema,
  maxTokens: 2000,
  temperature: 0,
  system: (boundary) =>
    analystPreamble(
      boundary,
      [
        'Task: write the smallest correct fix for a reported vulnerability, as a replacement of one contiguous range of lines of the file the finding is in.',
        `The range must lie within ${FIX_WINDOW_LINES} lines of the finding. Keep behaviour for legitimate input, keep the style and indentation, use the language's standard safe API (parameterised queries, argument arrays, escaping, allow-lists), add no new dependency, and do not touch unrelated code.`,
      ].join(' '),
    ),
  render: (input, boundary) =>
    `Fix this finding in ${input.finding.location.path} (${input.lineCount} lines).\n\n${findingBlocks(boundary, input.finding, input.excerpts)}`,
  cacheContent: (input) => `${input.lineCount}\n${findingCacheContent(input.finding, input.excerpts)}`,
  check: (output, input) => {
    const problems: string[] = [];
    const { startLine, endLine } = output;
    const { location } = input.finding;
    if (endLine < startLine) problems.push(`endLine ${endLine} is before startLine ${startLine}`);
    if (endLine > input.lineCount) problems.push(`lines ${startLine}-${endLine} are outside the file (${input.lineCount} lines)`);
    const low = Math.max(1, location.startLine - FIX_WINDOW_LINES);
    const high = location.endLine + FIX_WINDOW_LINES;
    if (startLine < low || endLine > high) problems.push(`lines ${startLine}-${endLine} are outside the window ${low}-${high} around the finding`);
    return problems;
  },
};
