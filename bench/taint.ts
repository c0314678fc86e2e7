/**
 * Taint pass cost against a plain parse of the same files: `tsx bench/taint.ts <language> <dir> [limit]`.
 * Prints parse and taint milliseconds, their ratio, files, files the taint pass analysed and findings.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkDirectory } from '../shared/analysis/files.ts';
import { detectLanguage, ensureLanguagesRegistered, parseSource } from '../shared/analysis/languages.ts';
import { createTaintAnalyzer } from '../shared/analysis/taint/index.ts';
import type { LanguageId } from '../shared/analysis/types.ts';

const [wanted, dir, limitArg] = process.argv.slice(2);
if (!wanted || !dir) {
  console.error('usage: tsx bench/taint.ts <language|all> <dir> [limit]');
  process.exit(2);
}
ensureLanguagesRegistered();
const limit = limitArg ? Number(limitArg) : Infinity;
const files: { path: string; source: string; language: LanguageId }[] = [];
for (const path of walkDirectory(dir).paths) {
  if (files.length >= limit) break;
  const language = detectLanguage(path);
  if (!language || (wanted !== 'all' && language !== wanted && !(wanted === 'javascript' && (language === 'typescript' || language === 'tsx')))) continue;
  const source = readFileSync(join(dir, path), 'utf8');
  if (source.length > 512 * 1024) continue;
  files.push({ path, source, language });
}
const analyzer = createTaintAnalyzer();
let parseMs = 0;
let taintMs = 0;
let findings = 0;
// A digest of every finding's rule and line, so a speed change that alters results shows up.
const digest = createHash('sha256');
for (const f of files) {
  const t0 = performance.now();
  const root = parseSource(f.language, f.source);
  root.root().children();
  const t1 = performance.now();
  const out = analyzer.analyze({ path: f.path, language: f.language, source: f.source, root });
  findings += out.length;
  const t2 = performance.now();
  parseMs += t1 - t0;
  taintMs += t2 - t1;
  for (const x of out) digest.update(`${f.path}:${x.ruleId}:${x.location.startLine}\n`);
}
console.log(JSON.stringify({ language: wanted, files: files.length, parseMs: Math.round(parseMs), taintMs: Math.round(taintMs), ratio: Number((taintMs / parseMs).toFixed(2)), findings, digest: digest.digest('hex').slice(0, 12) }));
