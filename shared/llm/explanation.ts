import type { Finding } from '../analysis/types.ts';
import { findingExcerpts, type FindingBrief, type SourceFiles } from './context.ts';
import { explainPrompt, type Explanation } from './prompts/explain.ts';
import { runPrompt, type ModelContext, type PromptOutcome } from './run.ts';

/** A developer-facing explanation of one finding, cached by finding, code and prompt version. */
export function explainFinding(finding: FindingBrief | Finding, files: SourceFiles, ctx: ModelContext): Promise<PromptOutcome<Explanation>> {
  return runPrompt(explainPrompt, { finding, excerpts: findingExcerpts(finding, files, 12) }, ctx);
}
