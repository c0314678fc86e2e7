/**
 * Rewrite fixes: of the findings a rule rewrite applies to, the share whose fix validates (the file parses, the
 * re-scan no longer reports the finding and reports nothing new, the change is small), and the time per
 * validated fix. Runs on the project's rule fixtures, and on an OWASP Benchmark for Java checkout when one is
 * present (OWASP_BENCHMARK_DIR, else /tmp/owasp-benchmark).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectLanguage } from '../shared/analysis/languages.ts';
import { scanFiles } from '../shared/analysis/scanner.ts';
import type { Finding } from '../shared/analysis/types.ts';
import { buildRuleFix, hasRewrite, validateFix } from '../shared/fix/validate.ts';
import { findFiles } from './lib/corpus.ts';
import type { BenchContext, BenchModule } from './lib/types.ts';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/rules/', import.meta.url));

export interface FixTally {
  findings: number;
  fixable: number;
  built: number;
  validated: number;
  validateMs: number;
  failures: Map<string, number>;
}

/** Builds and validates the rewrite of every rewrite-fixable finding of the files, one finding at a time. */
export function measureFixes(root: string, paths: readonly string[], onFailure?: (finding: Finding, reason: string) => void): FixTally {
  const tally: FixTally = { findings: 0, fixable: 0, built: 0, validated: 0, validateMs: 0, failures: new Map() };
  const fail = (finding: Finding, key: string, reason: string) => {
    tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
    onFailure?.(finding, reason);
  };
  for (const abs of paths) {
    const path = relative(root, abs).split('\\').join('/');
    const source = readFileSync(abs, 'utf8');
    const language = detectLanguage(path, source);
    if (!language) continue;
    const { findings } = scanFiles([{ path, source }]);
    tally.findings += findings.length;
    for (const finding of findings.filter((f) => hasRewrite(f.ruleId))) {
      tally.fixable++;
      const started = performance.now();
      const fix = buildRuleFix(finding, source);
      if (!fix) {
        fail(finding, `not rewritten (shape not handled): ${finding.ruleId}`, 'no rewrite');
        continue;
      }
      tally.built++;
      const result = validateFix({ path, language, before: source, after: fix.after, finding });
      if (result.ok) {
        tally.validated++;
        tally.validateMs += performance.now() - started;
      } else fail(finding, `not validated (${result.code}): ${finding.ruleId}`, result.reason);
    }
  }
  return tally;
}

function report(context: BenchContext, label: string, tally: FixTally, target: boolean): void {
  const percent = (n: number, of: number) => (of === 0 ? 0 : (n / of) * 100);
  context.log(`${label}: ${tally.findings} findings, ${tally.fixable} of rules with a rewrite, ${tally.built} rewritten, ${tally.validated} validated`);
  for (const [key, count] of [...tally.failures].sort((a, b) => b[1] - a[1])) context.log(`  ${count} × ${key}`);
  context.report({
    module: 'fixes',
    metric: `${label}: rewritten fixes that validate`,
    value: percent(tally.validated, tally.built),
    unit: '%',
    ...(target ? { target: { min: 95 } } : {}),
    note: `${tally.validated}/${tally.built}`,
  });
  context.report({
    module: 'fixes',
    metric: `${label}: findings of rewrite rules rewritten`,
    value: percent(tally.built, tally.fixable),
    unit: '%',
    note: `${tally.built}/${tally.fixable}; the rest have a shape no rewrite handles safely`,
  });
  if (tally.validated > 0) {
    context.report({ module: 'fixes', metric: `${label}: time per validated fix`, value: tally.validateMs / tally.validated, unit: 'ms', note: 'build + parse check + re-scan' });
  }
}

const bench: BenchModule = {
  name: 'fixes',
  description: 'rule rewrites: share of rewrite-fixable findings whose fix validates, time per validated fix',
  async run(context) {
    const fixtures = findFiles(FIXTURES, { extensions: ['.js', '.ts', '.py', '.java', '.go'] });
    report(context, 'rule fixtures', measureFixes(FIXTURES, fixtures), false);

    const owasp = process.env.OWASP_BENCHMARK_DIR ?? '/tmp/owasp-benchmark';
    const testcode = join(owasp, 'src/main/java/org/owasp/benchmark/testcode');
    if (!existsSync(testcode)) {
      context.log(`no OWASP Benchmark checkout at ${owasp} (set OWASP_BENCHMARK_DIR); skipping the benchmark figures`);
      return;
    }
    let files = findFiles(testcode, { extensions: ['.java'] });
    if (context.quick) files = files.slice(0, 300);
    context.log(`OWASP Benchmark: ${files.length} files`);
    report(context, 'OWASP Benchmark', measureFixes(testcode, files), true);
  },
};

export default bench;
