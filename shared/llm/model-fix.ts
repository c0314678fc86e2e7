/**
 * A model-written fix: the replacement of one line range near the finding, turned into a byte-offset edit the
 * fix validator applies and checks like a rule's rewrite.
 */
import type { Edit, Finding } from '../analysis/types.ts';
import { findingExcerpts, type FindingBrief } from './context.ts';
import { FIX_WINDOW_LINES, fixPrompt, type FixAnswer } from './prompts/fix.ts';
import { runPrompt, type ModelContext, type PromptOutcome } from './run.ts';
import { sourceLines } from './untrusted.ts';

export interface ModelFix extends FixAnswer {
  readonly edit: Edit;
  readonly model: string;
  readonly promptVersion: string;
}

/** Byte offsets of the start of each line (1-based index), plus the end of the source. */
function lineStarts(source: string): number[] {
  const starts = [0, 0];
  const bytes = Buffer.from(source, 'utf8');
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  return starts;
}

/** The edit replacing lines `startLine..endLine` (inclusive) with `replacement`, keeping the file's line ending. */
export function lineRangeEdit(source: string, startLine: number, endLine: number, replacement: string): Edit {
  const starts = lineStarts(source);
  const total = Buffer.byteLength(source, 'utf8');
  const startByte = starts[startLine] ?? total;
  const next = starts[endLine + 1];
  // Replace through the last line's newline so the replacement's own line structure is kept exactly.
  const endByte = next ?? total;
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  const body = replacement.replace(/\r?\n$/, '').replace(/\r?\n/g, eol);
  return { startByte, endByte, replacement: next === undefined ? body + (source.endsWith('\n') ? eol : '') : body + eol };
}

export async function proposeModelFix(finding: FindingBrief | Finding, source: string, ctx: ModelContext): Promise<PromptOutcome<ModelFix>> {
  const lineCount = sourceLines(source).length;
  const files = new Map([[finding.location.path, source]]);
  const outcome = await runPrompt(fixPrompt, { finding, excerpts: findingExcerpts(finding, files, FIX_WINDOW_LINES), lineCount }, ctx);
  if (outcome.status !== 'ok') return outcome;
  const { value } = outcome;
  return {
    ...outcome,
    value: { ...value, edit: lineRangeEdit(source, value.startLine, value.endLine, value.replacement), model: outcome.modelId, promptVersion: outcome.promptVersion },
  };
}
