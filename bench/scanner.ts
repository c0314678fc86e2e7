/**
 * Scanner speed: against a plain ast-grep parse of the same files with the same worker threads (the floor),
 * against Bandit on Python's standard library and ESLint + eslint-plugin-security on JavaScript from
 * node_modules, and peak memory on a synthesised 50k-file tree. Every tool runs in its own child process on the
 * same copied file set; the comparisons with other tools and the large tree run the `codeguardian` command as a
 * user does (`npx codeguardian`: bin/codeguardian.mjs on the bundle `npm run build:cli` makes, built first), and
 * the floor and the scan it is compared with run from the same kind of bundle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { copyCorpus, findFiles, synthesizeCorpus, type Corpus } from './lib/corpus.ts';
import { hasCommand, measure } from './lib/process.ts';
import type { BenchContext, BenchModule } from './lib/types.ts';
import type { WorkerResult } from './lib/scan-worker.ts';
import { buildCli, cliBundleFresh } from '../bin/build-cli.ts';

const ROOT = join(import.meta.dirname, '..');
const NAME = 'scanner';

/**
 * Builds the floor and scan workers as plain JavaScript beside a copy of the CLI bundle (its chunks, compiled
 * rules and specs), so both sides run as users run the scanner, without TypeScript compilation or YAML parsing.
 */
function buildWorkers(): string {
  // Inside the repository, as dist/cli is: the bundle finds the native parsers in its node_modules.
  const dir = join(ROOT, 'dist', 'bench-workers');
  buildCli(dir, { 'bench-scan': 'bench/lib/scan-worker.ts', 'floor-worker': 'bench/lib/floor-worker.ts' });
  return join(dir, 'bench-scan.mjs');
}

async function runWorker(worker: string, mode: 'parse' | 'scan', dir: string): Promise<WorkerResult & { wallMs: number }> {
  const result = await measure(process.execPath, [worker, mode, dir], { cwd: ROOT });
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.exitCode !== 0 || !line.startsWith('{')) {
    throw new Error(`scan worker (${mode}) failed with ${result.exitCode}: ${result.stderr.slice(-2000)}`);
  }
  const parsed = JSON.parse(line) as WorkerResult;
  return { ...parsed, maxRssMb: result.maxRssMb ?? parsed.maxRssMb, wallMs: result.wallMs };
}

function pythonCorpus(context: BenchContext): Corpus | undefined {
  const version = readdirSync('/usr/lib').filter((name) => /^python3\.\d+$/.test(name)).sort().pop();
  if (!version) return undefined;
  const stdlib = join('/usr/lib', version);
  let files = findFiles(stdlib, { extensions: ['.py'], skip: (p) => /site-packages|dist-packages/.test(p) });
  if (context.quick) files = files.slice(0, 150);
  return copyCorpus(stdlib, files, join(context.workDir, 'python'));
}

function javascriptCorpus(context: BenchContext): Corpus {
  const nodeModules = join(ROOT, 'node_modules');
  const all = findFiles(nodeModules, {
    extensions: ['.js'],
    minBytes: 1024,
    maxBytes: 256 * 1024,
    skip: (p) => /\.min\.js$|\/(?:dist|umd|bundles?|esm5|typescript|@esbuild|@swc|aws-cdk-lib|@aws-sdk|@smithy)\//.test(p),
  });
  // Every n-th file: a spread across packages rather than the first few alphabetically.
  const wanted = context.quick ? 300 : 3000;
  const step = Math.max(1, Math.floor(all.length / wanted));
  const files = all.filter((_, i) => i % step === 0).slice(0, wanted);
  return copyCorpus(nodeModules, files, join(context.workDir, 'javascript'));
}

const CLI = join(ROOT, 'bin/codeguardian.mjs');

interface CliRun {
  readonly wallMs: number;
  readonly cpuMs: number | undefined;
  readonly maxRssMb: number | undefined;
  readonly files: number;
  readonly findings: number;
}

/** `codeguardian scan <dir> --format json --output <file>`, timed from the outside like the other tools. */
async function runCli(context: BenchContext, dir: string): Promise<CliRun> {
  // A bundled source changed since the build would send the launcher back to tsx, which is not what users run.
  if (!cliBundleFresh()) {
    buildCli();
    context.log('rebuilt the CLI bundle: a source changed since it was built');
  }
  const output = join(context.workDir, 'codeguardian.json');
  const result = await measure(process.execPath, [CLI, 'scan', dir, '--format', 'json', '--output', output], { cwd: ROOT });
  if (result.exitCode > 1) throw new Error(`codeguardian scan failed with ${result.exitCode}: ${result.stderr.slice(-2000)}`);
  const report = JSON.parse(readFileSync(output, 'utf8')) as { summary: { filesScanned: number; findings: number } };
  return { wallMs: result.wallMs, cpuMs: result.cpuMs, maxRssMb: result.maxRssMb, files: report.summary.filesScanned, findings: report.summary.findings };
}

/** Back-to-back floor and scan runs per corpus; the median pair is reported (a shared machine's speed drifts). */
const FLOOR_PAIRS = { quick: 1, full: 3 };

async function parseFloor(context: BenchContext, worker: string, label: string, corpus: Corpus): Promise<void> {
  const pairs: { floor: WorkerResult; scan: WorkerResult }[] = [];
  for (let i = 0; i < (context.quick ? FLOOR_PAIRS.quick : FLOOR_PAIRS.full); i++) {
    const floor = await runWorker(worker, 'parse', corpus.dir);
    const scan = await runWorker(worker, 'scan', corpus.dir);
    context.log(`${label}: parse ${floor.ms.toFixed(0)} ms, scan ${scan.ms.toFixed(0)} ms (${(scan.ms / floor.ms).toFixed(2)}x; ${scan.workers} threads each, the main one included), ${scan.files} files, ${scan.findings} findings`);
    pairs.push({ floor, scan });
  }
  pairs.sort((a, b) => a.scan.ms / a.floor.ms - b.scan.ms / b.floor.ms);
  const { floor, scan } = pairs[Math.floor(pairs.length / 2)]!;
  const note = `${scan.files} files, ${scan.workers} threads${pairs.length > 1 ? `, median of ${pairs.length} pairs` : ''}`;
  context.report({ module: NAME, metric: `${label}: scan time / parse floor`, value: scan.ms / floor.ms, unit: 'x', target: { max: 2.5 }, note });
  context.report({ module: NAME, metric: `${label}: files/s`, value: scan.files / (scan.ms / 1000), unit: 'files/s' });
}

/** CPU time (user + system, all threads) compared too: on a shared machine it varies far less than wall time. */
function reportCpu(context: BenchContext, metric: string, theirs: number | undefined, ours: number | undefined): void {
  if (theirs === undefined || ours === undefined) return;
  context.report({ module: NAME, metric, value: theirs / ours, unit: 'x', note: `${(theirs / 1000).toFixed(1)} s vs ${(ours / 1000).toFixed(1)} s CPU` });
}

async function versusBandit(context: BenchContext, corpus: Corpus): Promise<void> {
  if (!(await hasCommand('bandit'))) {
    context.log('bandit is not installed: `apt-get update && apt-get install -y bandit` to include it');
    return;
  }
  const ours = await runCli(context, corpus.dir);
  const ourWallMs = ours.wallMs;
  const bandit = await measure('bandit', ['-r', '.', '-q', '-f', 'json', '-o', join(context.workDir, 'bandit.json')], { cwd: corpus.dir });
  context.log(`bandit: ${(bandit.wallMs / 1000).toFixed(1)} s (exit ${bandit.exitCode}), CodeGuardian ${(ourWallMs / 1000).toFixed(1)} s`);
  context.report({ module: NAME, metric: 'Python stdlib: speedup over Bandit', value: bandit.wallMs / ourWallMs, unit: 'x', target: { min: 3 }, note: `${corpus.files} files, wall time incl. start-up` });
  reportCpu(context, 'Python stdlib: Bandit CPU time / ours', bandit.cpuMs, ours.cpuMs);
}

async function versusEslint(context: BenchContext, corpus: Corpus): Promise<void> {
  const ours = await runCli(context, corpus.dir);
  const ourWallMs = ours.wallMs;
  const eslint = await measure(
    process.execPath,
    // ESLint gets as many threads as our scan uses.
    [join(ROOT, 'node_modules/eslint/bin/eslint.js'), '--concurrency', String(availableParallelism()), '--no-config-lookup', '-c', join(import.meta.dirname, 'eslint-security.config.js'), '--format', 'json', '-o', join(context.workDir, 'eslint.json'), '.'],
    { cwd: corpus.dir },
  );
  if (eslint.exitCode > 1) throw new Error(`eslint failed: ${eslint.stderr.slice(-2000)}`);
  context.log(`eslint + security plugin: ${(eslint.wallMs / 1000).toFixed(1)} s, CodeGuardian ${(ourWallMs / 1000).toFixed(1)} s`);
  reportCpu(context, 'JavaScript: ESLint CPU time / ours', eslint.cpuMs, ours.cpuMs);
  context.report({ module: NAME, metric: 'JavaScript: speedup over ESLint + security', value: eslint.wallMs / ourWallMs, unit: 'x', target: { min: 3 }, note: `${corpus.files} files, wall time incl. start-up, ESLint with ${availableParallelism()} threads` });
}

async function largeTree(context: BenchContext, sources: readonly string[]): Promise<void> {
  const count = context.quick ? 2000 : 50000;
  const corpus = synthesizeCorpus(sources, count, join(context.workDir, 'large'));
  const scan = await runCli(context, corpus.dir);
  const rss = scan.maxRssMb ?? Number.NaN;
  context.log(`${count} files (${(corpus.bytes / 1048576).toFixed(0)} MiB): ${scan.files} scanned in ${(scan.wallMs / 1000).toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB (all threads)`);
  context.report({ module: NAME, metric: `${count} files: files/s`, value: scan.files / (scan.wallMs / 1000), unit: 'files/s', note: 'wall time incl. start-up' });
  context.report({ module: NAME, metric: `${count} files: peak RSS`, value: rss, unit: 'MiB', target: { max: 1024 }, note: `${scan.files} files scanned` });
}

const module: BenchModule = {
  name: NAME,
  description: 'scan speed vs the ast-grep parse floor, Bandit and ESLint; files/s and peak RSS',
  async run(context) {
    buildCli();
    const worker = buildWorkers();
    context.log('built the CLI bundle (npm run build:cli) and the floor and scan workers beside a copy of it');
    const python = pythonCorpus(context);
    const javascript = javascriptCorpus(context);
    context.log(`corpora: ${python ? `${python.files} Python files` : 'no Python stdlib found'}, ${javascript.files} JavaScript files`);
    if (python) {
      await parseFloor(context, worker, 'Python stdlib', python);
      await versusBandit(context, python);
    }
    await parseFloor(context, worker, 'JavaScript', javascript);
    await versusEslint(context, javascript);
    const sources = [
      ...findFiles(javascript.dir, { extensions: ['.js'] }),
      ...(python ? findFiles(python.dir, { extensions: ['.py'] }) : []),
    ];
    await largeTree(context, sources);
  },
};

export default module;
