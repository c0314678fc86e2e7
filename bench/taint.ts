/**
 * Taint pass cost against a plain parse of the same files, with a digest of the findings so a speed change
 * that alters results shows up. As a module of `npm run bench`: Python's standard library and JavaScript from
 * node_modules. Directly: `tsx bench/taint.ts <language> <dir> [limit]` (e.g. java on a BenchmarkJava checkout).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkDirectory } from '../shared/analysis/files.ts';
import { detectLanguage, ensureLanguagesRegistered, parseSource } from '../shared/analysis/languages.ts';
import { createTaintAnalyzer } from '../shared/analysis/taint/index.ts';
import type { LanguageId } from '../shared/analysis/types.ts';
import type { BenchModule } from './lib/types.ts';

export interface TaintBench {
  readonly language: string;
  readonly files: number;
  readonly parseMs: number;
  readonly taintMs: number;
  readonly ratio: number;
  readonly findings: number;
  readonly digest: string;
}

function wanted(language: LanguageId, requested: string): boolean {
  if (requested === 'all' || language === requested) return true;
  return requested === 'javascript' && (language === 'typescript' || language === 'tsx');
}

export function measureTaint(requested: string, dir: string, limit = Infinity): TaintBench {
  ensureLanguagesRegistered();
  const files: { path: string; source: string; language: LanguageId }[] = [];
  for (const path of walkDirectory(dir).paths) {
    if (files.length >= limit) break;
    const language = detectLanguage(path);
    if (!language || !wanted(language, requested)) continue;
    const source = readFileSync(join(dir, path), 'utf8');
    if (source.length > 512 * 1024) continue;
    files.push({ path, source, language });
  }
  const analyzer = createTaintAnalyzer();
  let parseMs = 0;
  let taintMs = 0;
  let findings = 0;
  const digest = createHash('sha256');
  for (const f of files) {
    const t0 = performance.now();
    const root = parseSource(f.language, f.source);
    root.root().children();
    const t1 = performance.now();
    const out = analyzer.analyze({ path: f.path, language: f.language, source: f.source, root });
    const t2 = performance.now();
    parseMs += t1 - t0;
    taintMs += t2 - t1;
    findings += out.length;
    for (const x of out) digest.update(`${f.path}:${x.ruleId}:${x.location.startLine}\n`);
  }
  return { language: requested, files: files.length, parseMs: Math.round(parseMs), taintMs: Math.round(taintMs), ratio: Number((taintMs / parseMs).toFixed(2)), findings, digest: digest.digest('hex').slice(0, 12) };
}

const module: BenchModule = {
  name: 'taint',
  description: 'taint pass time vs a plain parse on Python stdlib and node_modules JavaScript, with a findings digest',
  async run(context) {
    const version = readdirSync('/usr/lib').filter((name) => /^python3\.\d+$/.test(name)).sort().pop();
    const corpora: [string, string, number][] = [['javascript', join(import.meta.dirname, '..', 'node_modules'), context.quick ? 300 : 4000]];
    if (version) corpora.unshift(['python', join('/usr/lib', version), context.quick ? 150 : Infinity]);
    for (const [language, dir, limit] of corpora) {
      const r = measureTaint(language, dir, limit);
      context.log(`taint ${language}: parse ${r.parseMs} ms, taint ${r.taintMs} ms, ${r.files} files, ${r.findings} findings, digest ${r.digest}`);
      context.report({ module: 'taint', metric: `${language}: taint time / parse`, value: r.ratio, unit: 'x', target: { max: 2.5 }, note: `${r.files} files, ${r.findings} findings` });
    }
  },
};

export default module;

if (process.argv[1] === import.meta.filename) {
  const [requested, dir, limit] = process.argv.slice(2);
  if (!requested || !dir) {
    console.error('usage: tsx bench/taint.ts <language|all> <dir> [limit]');
    process.exit(2);
  }
  console.log(JSON.stringify(measureTaint(requested, dir, limit ? Number(limit) : Infinity)));
}
