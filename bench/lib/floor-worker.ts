/** A worker thread of the parse floor: reads, classifies and parses each file of a batch, as a scan worker does. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { classifyContent } from '../../shared/analysis/files.ts';
import { detectLanguage, parseSource } from '../../shared/analysis/languages.ts';
import { poolWorkerData, serveBatches } from '../../shared/analysis/worker-pool.ts';

/** The floor's work for one path; the main thread runs it too, as it does the scan's. */
export function parseOne(dir: string, path: string): { result: number; parsedBytes: number } {
  const content = readFileSync(join(dir, path));
  if (classifyContent(path, content)) return { result: 0, parsedBytes: 0 };
  const source = content.toString('utf8');
  const language = detectLanguage(path, source);
  if (!language) return { result: 1, parsedBytes: 0 };
  // A trivial walk of the root's children, so the tree is materialised as far as any analyzer's entry.
  parseSource(language, source).root().children();
  return { result: 1, parsedBytes: content.length };
}

if (!isMainThread) {
  const { dir } = poolWorkerData<{ dir: string }>();
  serveBatches<number>((path) => parseOne(dir, path));
}
