import { createTwoFilesPatch } from 'diff';

/**
 * A unified diff of one file (`--- a/<path>` / `+++ b/<path>`, 3 lines of context), as `git apply` and
 * `patch -p1` read it. Empty when nothing changed.
 */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return '';
  const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 });
  // jsdiff opens with an `Index:`/`===` banner that git does not write; the patch proper starts at `---`.
  return patch.slice(patch.indexOf('--- '));
}

/** Lines added and removed by a unified diff. */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++') || line.startsWith('---')) continue;
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { added, removed };
}
