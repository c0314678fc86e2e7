/**
 * The `codeguardian` command line. Kept free of process globals so tests drive it directly; bin/ only wires
 * process.argv, the streams and the exit code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { applyFixes } from './apply-fixes.ts';
import { atOrAbove, CONFIG_FILE_NAME, ConfigError, DEFAULT_CONFIG, parseConfigText, type ScanConfig } from './config.ts';
import { OUTPUT_FORMATS, renderReport, type OutputFormat } from './output/index.ts';
import { ENGINE_VERSION, getRuleSet, RulePackError } from './rule-pack.ts';
import { scanDirectoryParallel, type ParallelScanOptions } from './parallel-scan.ts';
import type { ChangedSince, ScanProgress, ScanResult } from './scanner.ts';
import type { Finding, Severity } from './types.ts';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly cwd: string;
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

const FAIL_ON = ['low', 'medium', 'high', 'critical'] as const;

export const USAGE = `Usage: codeguardian scan [dir] [options]

Scans a directory for security vulnerabilities.

Options:
  --format text|json|sarif   report format (default: text)
  --output FILE              write the report to FILE instead of standard output
  --fail-on LEVEL            exit 1 when a finding is at or above low|medium|high|critical (default: low)
  --config FILE              configuration file (default: <dir>/${CONFIG_FILE_NAME} when present)
  --fix                      apply the rules' automatic fixes in place, then scan again
  --changed-since REF        scan only files changed since the git revision REF
  -h, --help                 show this help
  -v, --version              show the version

Exit codes: 0 nothing at or above the threshold, 1 findings at or above it, 2 usage or configuration error.
`;

class UsageError extends Error {}

/** Set at build time in the bundled CLI, which has no package.json beside it. */
declare const CODEGUARDIAN_VERSION: string | undefined;

export function toolVersion(): string {
  if (typeof CODEGUARDIAN_VERSION === 'string') return CODEGUARDIAN_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? ENGINE_VERSION;
  } catch {
    return ENGINE_VERSION;
  }
}

function loadConfig(path: string | undefined, dir: string, cwd: string): ScanConfig {
  const file = path ? resolve(cwd, path) : join(dir, CONFIG_FILE_NAME);
  if (!existsSync(file)) {
    if (path) throw new UsageError(`config file not found: ${path}`);
    return DEFAULT_CONFIG;
  }
  return parseConfigText(readFileSync(file, 'utf8'), path ?? CONFIG_FILE_NAME);
}

function changedFiles(dir: string, ref: string): ChangedSince {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
      throw new UsageError(`--changed-since ${ref}: git ${args[0]} failed${stderr ? `: ${stderr.split('\n')[0]}` : ''}`);
    }
  };
  const tracked = git(['diff', '--name-only', '--relative', '--diff-filter=ACMR', ref, '--']);
  const untracked = git(['ls-files', '--others', '--exclude-standard']);
  const paths = `${tracked}\n${untracked}`.split('\n').map((p) => p.trim()).filter(Boolean);
  return { ref, paths: [...new Set(paths)] };
}

function progressBar(stderr: CliIo['stderr']): (p: ScanProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const done = p.filesDone === p.filesTotal;
    if (!done && now - last < 80) return;
    last = now;
    const width = 30;
    const ratio = p.filesTotal === 0 ? 1 : p.filesDone / p.filesTotal;
    const filled = Math.round(ratio * width);
    stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${p.filesDone}/${p.filesTotal} files`);
    if (done) stderr.write('\r\x1b[2K');
  };
}

/** Applies every available fix in place; returns how many were applied. */
function fixInPlace(dir: string, findings: readonly Finding[]): { applied: number; files: number } {
  const byFile = new Map<string, Finding[]>();
  // Every finding is offered: applyFixes asks each rule's rewrite (template or fixer) for the edits.
  for (const f of findings) {
    const list = byFile.get(f.location.path) ?? [];
    list.push(f);
    byFile.set(f.location.path, list);
  }
  let applied = 0;
  let files = 0;
  for (const [path, list] of byFile) {
    const abs = join(dir, path);
    const outcome = applyFixes(readFileSync(abs, 'utf8'), list);
    if (outcome.applied.length === 0) continue;
    writeFileSync(abs, outcome.source);
    applied += outcome.applied.length;
    files++;
  }
  return { applied, files };
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await runScanCommand(argv, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof RulePackError) {
      io.stderr.write(`codeguardian: ${err.message}\n`);
      if (err instanceof UsageError) io.stderr.write(`Run "codeguardian --help" for usage.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

async function runScanCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        output: { type: 'string' },
        'fail-on': { type: 'string' },
        config: { type: 'string' },
        fix: { type: 'boolean' },
        'changed-since': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (values.version) {
    io.stdout.write(`${toolVersion()}\n`);
    return EXIT_OK;
  }
  const [command, target, ...extra] = positionals;
  if (command !== 'scan') throw new UsageError(command ? `unknown command "${command}"` : 'missing command: codeguardian scan [dir]');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const format = (values.format ?? 'text') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}`);
  const failOn = (values['fail-on'] ?? 'low') as Severity;
  if (!(FAIL_ON as readonly string[]).includes(failOn)) throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}`);
  const dir = resolve(io.cwd, target ?? '.');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${target ?? '.'}`);

  const config = loadConfig(values.config, dir, io.cwd);
  const ruleSet = getRuleSet();
  const changedSince = values['changed-since'] !== undefined ? changedFiles(dir, values['changed-since']) : undefined;
  const options: ParallelScanOptions = {
    config,
    ruleSet,
    ...(changedSince ? { changedSince } : {}),
    ...(io.stderrIsTTY ? { onProgress: progressBar(io.stderr) } : {}),
  };

  let result: ScanResult = await scanDirectoryParallel(dir, options);
  if (values.fix) {
    const { applied, files } = fixInPlace(dir, result.findings);
    io.stderr.write(`codeguardian: applied ${applied} fix${applied === 1 ? '' : 'es'} in ${files} file${files === 1 ? '' : 's'}; scanning again\n`);
    result = await scanDirectoryParallel(dir, options);
  }

  const colour = format === 'text' && !values.output && Boolean(io.stdoutIsTTY) && !io.env?.NO_COLOR;
  const report = renderReport(result, format, { toolVersion: toolVersion(), colour, rules: ruleSet.rules });
  if (values.output) {
    writeFileSync(resolve(io.cwd, values.output), report);
    io.stderr.write(`codeguardian: ${result.findings.length} finding${result.findings.length === 1 ? '' : 's'} written to ${values.output}\n`);
  } else {
    io.stdout.write(report);
  }
  return result.findings.some((f) => atOrAbove(f.severity, failOn)) ? EXIT_FINDINGS : EXIT_OK;
}
