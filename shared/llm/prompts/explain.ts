import * as v from 'valibot';
import { findingBlocks, findingCacheContent, type Excerpt, type FindingBrief } from '../context.ts';
import { analystPreamble, type PromptTemplate } from './template.ts';

const text = (what: string, max = 2000) => v.pipe(v.string(), v.minLength(1), v.maxLength(max), v.description(what));

export const ExplanationSchema = v.object({
  summary: text('One or two sentences: what the vulnerability is, in plain language', 600),
  howExploited: text('How an attacker would exploit this code, step by step, with an example input'),
  impact: text('What the attacker gains: data, accounts, code execution'),
  fix: text('The concrete change to this code, with a short corrected snippet'),
  prevention: text('How to avoid this class of bug elsewhere: APIs, patterns, checks'),
});
export type Explanation = v.InferOutput<typeof ExplanationSchema>;

export interface ExplainInput {
  readonly finding: FindingBrief;
  readonly excerpts: readonly Excerpt[];
}

/** A developer-facing explanation of one finding. */
export const explainPrompt: PromptTemplate<ExplainInput, typeof ExplanationSchema> = {
  id: 'explain',
  version: 1,
  role: 'main',
  toolName: 'report_explanation',
  toolDescription: 'Report the explanation of the vulnerability for the developer who owns the code.',
  schema: ExplanationSchema,
  maxTokens: 1500,
  temperature: 0.2,
  system: (boundary) =>
    analystPreamble(
      boundary,
      'Task: explain a reported vulnerability to the developer who owns the code: what it is, how it is exploited, its impact, how to fix this code, and how to prevent the class of bug. Write for a busy engineer: specific to this code, no generic filler.',
    ),
  render: (input, boundary) => `Explain this finding.\n\n${findingBlocks(boundary, input.finding, input.excerpts)}`,
  cacheContent: (input) => findingCacheContent(input.finding, input.excerpts),
};
