import type { Finding } from '../analysis/types.ts';
import { findingExcerpts, type FindingBrief, type SourceFiles } from './context.ts';
import { explainPrompt, type Explanation } from './prompts/explain.ts';
import { redactSecrets } from '../domain/mask.ts';
import { runPrompt, type ModelContext, type PromptOutcome } from './run.ts';
import { numberedLines, sourceLines } from './untrusted.ts';

/** A developer-facing explanation of one finding, cached by finding, code and prompt version. */
export function explainFinding(finding: FindingBrief | Finding, files: SourceFiles, ctx: ModelContext): Promise<PromptOutcome<Explanation>> {
  return runPrompt(explainPrompt, { finding, excerpts: findingExcerpts(finding, files, 12) }, ctx);
}

/** Lines of a stored or posted snippet sent at most. */
export const MAX_SNIPPET_LINES = 160;

/**
 * An explanation from a code snippet instead of the scanned file: a stored vulnerability's snippet (its source
 * snapshot is not kept for the API) or code posted by the caller. `startLine` is the snippet's first line in its
 * file, so the model and the cache see the same numbering as the finding.
 */
export function explainSnippet(finding: FindingBrief, code: string, startLine: number, ctx: ModelContext): Promise<PromptOutcome<Explanation>> {
  const lines = sourceLines(code).slice(0, MAX_SNIPPET_LINES);
  const first = Math.max(1, Math.floor(startLine));
  const window = { start: first, end: first + Math.max(lines.length, 1) - 1 };
  const padded = [...new Array<string>(first - 1).fill(''), ...lines];
  const excerpts = lines.length === 0 ? [] : [{ path: finding.location.path, window, text: redactSecrets(numberedLines(padded, window)) }];
  return runPrompt(explainPrompt, { finding, excerpts }, ctx);
}
