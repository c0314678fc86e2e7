/**
 * Runs in a child process so its timing and peak memory are its own: `parse` reads and parses every file the
 * scanner would (the floor), `scan` runs the full CodeGuardian scan. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAnalyzers } from '../../shared/analysis/analyzers.ts';
import { classifyContent, walkDirectory } from '../../shared/analysis/files.ts';
import { detectLanguage, ensureLanguagesRegistered, parseSource } from '../../shared/analysis/languages.ts';
import { scanDirectory } from '../../shared/analysis/scanner.ts';
import { createSecretAnalyzer } from '../../shared/analysis/secrets/index.ts';
import type { Analyzer } from '../../shared/analysis/types.ts';

export interface WorkerResult {
  readonly mode: 'parse' | 'scan';
  readonly ms: number;
  readonly files: number;
  readonly findings: number;
  readonly maxRssMb: number;
}

/** Every analyzer of a full scan: the defaults, plus the secret analyzer when the defaults lack it. */
function fullAnalyzers(): Analyzer[] {
  const analyzers = defaultAnalyzers();
  return analyzers.some((a) => a.id === 'secrets') ? analyzers : [...analyzers, createSecretAnalyzer()];
}

function parseFloor(dir: string): { files: number; nodes: number } {
  const walk = walkDirectory(dir);
  let files = 0;
  let nodes = 0;
  for (const path of walk.paths) {
    const content = readFileSync(join(dir, path));
    if (classifyContent(path, content)) continue;
    const source = content.toString('utf8');
    const language = detectLanguage(path, source);
    files++;
    if (!language) continue;
    // A trivial walk of the root's children, so the tree is materialised as far as any analyzer's entry.
    nodes += parseSource(language, source).root().children().length;
  }
  return { files, nodes };
}

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'scan') || !dir) {
  console.error('usage: scan-worker.ts parse|scan <dir>');
  process.exit(2);
}
ensureLanguagesRegistered();
const analyzers = mode === 'scan' ? fullAnalyzers() : [];
const started = performance.now();
let files = 0;
let findings = 0;
if (mode === 'parse') {
  files = parseFloor(dir).files;
} else {
  const result = scanDirectory(dir, { analyzers });
  files = result.filesScanned;
  findings = result.findings.length;
}
const ms = performance.now() - started;
const output: WorkerResult = { mode, ms, files, findings, maxRssMb: process.resourceUsage().maxRSS / 1024 };
console.log(JSON.stringify(output));
