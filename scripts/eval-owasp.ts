/**
 * OWASP Benchmark for Java v1.2 scorecard: scans the benchmark's test code with the structural rules and the
 * taint engine, maps findings to test cases by file and CWE, and prints per-category TP/FN/TN/FP, TPR, FPR and
 * score, plus the overall score (mean TPR − mean FPR over the categories).
 *
 * Usage: npm run eval:owasp -- <benchmark checkout> [--json]
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseSource } from '../shared/analysis/languages.ts';
import { DEFAULT_RULES_DIR, loadRuleSet } from '../shared/analysis/rule-pack.ts';
import { createStructuralAnalyzer } from '../shared/analysis/structural.ts';
import { createTaintAnalyzer } from '../shared/analysis/taint/index.ts';
import type { Analyzer, RawFinding } from '../shared/analysis/types.ts';

interface Expected {
  readonly category: string;
  readonly vulnerable: boolean;
  readonly cwe: string;
}

interface Card {
  tp: number;
  fn: number;
  tn: number;
  fp: number;
}

function fail(message: string): never {
  process.stderr.write(`eval-owasp: ${message}\n`);
  process.exit(2);
}

function readExpected(checkout: string): Map<string, Expected> {
  const file = join(checkout, 'expectedresults-1.2.csv');
  if (!existsSync(file)) fail(`${file} not found; pass the root of a BenchmarkJava v1.2 checkout`);
  const out = new Map<string, Expected>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [name, category, real, cwe] = line.split(',').map((s) => s.trim());
    if (!name || !category || !real || !cwe) continue;
    out.set(name, { category, vulnerable: real === 'true', cwe: `CWE-${cwe}` });
  }
  return out;
}

/** The structural analyzer with the Java pack only: the benchmark is Java, and other packs need not load. */
function javaRules(): Analyzer {
  const dir = mkdtempSync(join(tmpdir(), 'cg-owasp-rules-'));
  try {
    if (existsSync(join(DEFAULT_RULES_DIR, 'java'))) symlinkSync(join(DEFAULT_RULES_DIR, 'java'), join(dir, 'java'));
    return createStructuralAnalyzer({ ruleSet: loadRuleSet(dir) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const checkout = args.find((a) => !a.startsWith('--'));
  if (!checkout) fail('usage: npm run eval:owasp -- <benchmark checkout> [--json]');
  const dir = join(checkout, 'src/main/java/org/owasp/benchmark/testcode');
  if (!existsSync(dir)) fail(`${dir} not found`);
  const expected = readExpected(checkout);
  const analyzers: Analyzer[] = [javaRules(), createTaintAnalyzer()];

  const started = performance.now();
  const reported = new Map<string, Set<string>>();
  const files = readdirSync(dir).filter((f) => f.endsWith('.java')).sort();
  for (const f of files) {
    const path = join(dir, f);
    const source = readFileSync(path, 'utf8');
    const root = parseSource('java', source);
    const findings: RawFinding[] = analyzers.flatMap((a) => a.analyze({ path: f, language: 'java', source, root }));
    reported.set(basename(f, '.java'), new Set(findings.flatMap((x) => x.cwe)));
  }
  const seconds = (performance.now() - started) / 1000;

  const cards = new Map<string, Card>();
  for (const [name, exp] of expected) {
    const card = cards.get(exp.category) ?? { tp: 0, fn: 0, tn: 0, fp: 0 };
    cards.set(exp.category, card);
    const flagged = reported.get(name)?.has(exp.cwe) ?? false;
    if (exp.vulnerable && flagged) card.tp++;
    else if (exp.vulnerable) card.fn++;
    else if (flagged) card.fp++;
    else card.tn++;
    if (process.env.EVAL_OWASP_VERBOSE && flagged !== exp.vulnerable) process.stdout.write(`${flagged ? 'FP' : 'FN'} ${exp.category} ${name}\n`);
  }

  const rows = [...cards.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([category, c]) => {
    const tpr = c.tp + c.fn ? c.tp / (c.tp + c.fn) : 0;
    const fpr = c.fp + c.tn ? c.fp / (c.fp + c.tn) : 0;
    return { category, ...c, tpr, fpr, score: tpr - fpr };
  });
  const meanTpr = rows.reduce((s, r) => s + r.tpr, 0) / rows.length;
  const meanFpr = rows.reduce((s, r) => s + r.fpr, 0) / rows.length;
  const overall = meanTpr - meanFpr;

  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ files: files.length, seconds, categories: rows, meanTpr, meanFpr, score: overall }, null, 2)}\n`);
    return;
  }
  const pct = (n: number): string => `${(n * 100).toFixed(1)}%`.padStart(7);
  const lines = [
    `OWASP Benchmark v1.2: ${files.length} files scanned in ${seconds.toFixed(1)} s`,
    `${'category'.padEnd(14)}${'TP'.padStart(5)}${'FN'.padStart(5)}${'TN'.padStart(5)}${'FP'.padStart(5)}    TPR    FPR  score`,
    ...rows.map((r) => `${r.category.padEnd(14)}${String(r.tp).padStart(5)}${String(r.fn).padStart(5)}${String(r.tn).padStart(5)}${String(r.fp).padStart(5)}${pct(r.tpr)}${pct(r.fpr)}${pct(r.score)}`),
    `${'overall'.padEnd(34)}${pct(meanTpr)}${pct(meanFpr)}${pct(overall)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
