/**
 * The scanner: finds files, parses each once, runs every analyzer on the shared tree, then fingerprints,
 * applies configuration, thresholds and inline suppressions uniformly to all findings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintAll } from '../domain/fingerprint.ts';
import { defaultAnalyzers } from './analyzers.ts';
import { atOrAbove, DEFAULT_CONFIG, isRuleEnabled, type ScanConfig } from './config.ts';
import { classifyContent, filterFiles, isVendoredPath, walkDirectory, type SkippedFile, type SourceFile } from './files.ts';
import { detectLanguage, LANGUAGES, parseSource } from './languages.ts';
import { getRuleSet, type RuleSet } from './rule-pack.ts';
import { findSuppression } from './suppressions.ts';
import type { Analyzer, FileContext, Finding, RawFinding, Severity } from './types.ts';

export interface ScanProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly path: string;
}

export interface ChangedSince {
  /** The base the change set was computed against, e.g. a commit or branch. */
  readonly ref: string;
  /** Paths relative to the scan root that changed since `ref`; only these are scanned. */
  readonly paths: readonly string[];
}

export interface ScanOptions {
  /** @default structural rules plus `defaultAnalyzers()` */
  readonly analyzers?: readonly Analyzer[];
  readonly config?: ScanConfig;
  /** Overrides the configuration's threshold: findings below it are dropped. */
  readonly severityThreshold?: Severity;
  readonly changedSince?: ChangedSince;
  readonly onProgress?: (progress: ScanProgress) => void;
  readonly ruleSet?: RuleSet;
}

export interface ScanError {
  readonly path: string;
  readonly analyzer?: string;
  readonly message: string;
}

export interface ScanResult {
  readonly findings: Finding[];
  readonly suppressed: Finding[];
  readonly filesScanned: number;
  readonly linesScanned: number;
  readonly skipped: SkippedFile[];
  readonly errors: ScanError[];
  readonly durationMs: number;
  readonly rulesetVersion: string;
}

export interface PendingFile {
  readonly path: string;
  readonly load: () => string | Buffer;
}

/** What scanning one file adds to a scan result. */
export interface FileOutcome {
  readonly scanned: boolean;
  /** Whether some analyzer needed the file's tree, so it was parsed. */
  readonly parsed?: boolean;
  readonly lines: number;
  readonly findings: Finding[];
  readonly suppressed: Finding[];
  readonly skipped?: SkippedFile;
  readonly errors: ScanError[];
}

function countLines(source: string): number {
  if (source.length === 0) return 0;
  let n = 1;
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) n++;
  return source.endsWith('\n') ? n - 1 : n;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    a.location.path.localeCompare(b.location.path) ||
    a.location.startLine - b.location.startLine ||
    a.location.startColumn - b.location.startColumn ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

/**
 * The per-file half of a scan: reads, classifies and parses one file, runs every analyzer on the shared tree,
 * then filters, fingerprints and applies suppressions. Holds nothing of a file once it returns, so a caller
 * streaming many files (one thread or several) keeps only the outcomes.
 */
export function createFileScanner(options: ScanOptions = {}): (file: PendingFile) => FileOutcome {
  const config = options.config ?? DEFAULT_CONFIG;
  const threshold = options.severityThreshold ?? config.severityThreshold;
  const ruleSet = options.ruleSet ?? getRuleSet();
  const ruleFilter = (rule: { id: string; cwe: readonly string[] }) => isRuleEnabled(config, rule.id, rule.cwe);
  const analyzers = options.analyzers ?? defaultAnalyzers({ ruleSet, ruleFilter });
  return (file) => {
    const errors: ScanError[] = [];
    const findings: Finding[] = [];
    const suppressed: Finding[] = [];
    const nothing = { scanned: false, lines: 0, findings, suppressed, errors };
    let source: string;
    try {
      const content = file.load();
      const reason = classifyContent(file.path, content);
      if (reason) return { ...nothing, skipped: { path: file.path, reason } };
      source = typeof content === 'string' ? content : content.toString('utf8');
    } catch (err) {
      errors.push({ path: file.path, message: (err as Error).message });
      return { ...nothing, skipped: { path: file.path, reason: 'unreadable' } };
    }
    const language = detectLanguage(file.path, source);
    const wanted = analyzers.filter((a) => a.languages === 'all' || (language !== undefined && a.languages.includes(language)));
    if (wanted.length === 0) return nothing;
    let root: FileContext['root'];
    let parsed = false;
    // Parsed when an analyzer first asks: most files fail every analyzer's text pre-check and need no tree.
    const context: FileContext = {
      path: file.path,
      language,
      source,
      get root() {
        if (!parsed && language) {
          parsed = true;
          try {
            root = parseSource(language, source);
          } catch (err) {
            errors.push({ path: file.path, message: `parse failed: ${(err as Error).message}` });
          }
        }
        return root;
      },
    };
    const raw: RawFinding[] = [];
    for (const analyzer of wanted) {
      try {
        raw.push(...analyzer.analyze(context));
      } catch (err) {
        errors.push({ path: file.path, analyzer: analyzer.id, message: (err as Error).message });
      }
    }
    const outcome = { scanned: true, parsed, lines: countLines(source), findings, suppressed, errors };
    if (raw.length === 0) return outcome;
    const kept = mergeOverlapping(raw.filter((f) => isRuleEnabled(config, f.ruleId, f.cwe) && atOrAbove(f.severity, threshold)));
    const lines = source.split('\n');
    const style = language && LANGUAGES[language].lineComment === '#' ? 'hash' : 'c';
    for (const finding of fingerprintAll(kept, style)) {
      const suppression = findSuppression(lines, finding);
      if (suppression) suppressed.push({ ...finding, suppression });
      else findings.push(finding);
    }
    return outcome;
  };
}

function runScan(pending: readonly PendingFile[], skipped: SkippedFile[], options: ScanOptions, started: number): ScanResult {
  const ruleSet = options.ruleSet ?? getRuleSet();
  const scanOne = createFileScanner({ ...options, ruleSet });
  const findings: Finding[] = [];
  const suppressed: Finding[] = [];
  const errors: ScanError[] = [];
  let filesScanned = 0;
  let linesScanned = 0;

  pending.forEach((file, index) => {
    options.onProgress?.({ filesDone: index, filesTotal: pending.length, path: file.path });
    const outcome = scanOne(file);
    if (outcome.skipped) skipped.push(outcome.skipped);
    errors.push(...outcome.errors);
    findings.push(...outcome.findings);
    suppressed.push(...outcome.suppressed);
    if (outcome.scanned) filesScanned++;
    linesScanned += outcome.lines;
  });
  if (pending.length > 0) options.onProgress?.({ filesDone: pending.length, filesTotal: pending.length, path: '' });

  return {
    findings: findings.sort(compareFindings),
    suppressed: suppressed.sort(compareFindings),
    filesScanned,
    linesScanned,
    skipped,
    errors,
    durationMs: Math.round(performance.now() - started),
    rulesetVersion: ruleSet.version,
  };
}

/**
 * One vulnerability, one finding: where the taint engine traced a flow to the very line a structural rule
 * flagged for the same weakness (a shared CWE or the same category), the taint finding, which carries the
 * path, is kept, with the rule's fix.
 */
export function mergeOverlapping(findings: readonly RawFinding[]): RawFinding[] {
  const flows = findings.filter((f) => f.kind === 'taint');
  if (flows.length === 0) return [...findings];
  const sameWeakness = (rule: RawFinding, flow: RawFinding) =>
    rule.location.path === flow.location.path &&
    rule.location.startLine === flow.location.startLine &&
    (rule.cwe.some((c) => flow.cwe.includes(c)) || rule.type.toLowerCase() === flow.type.toLowerCase());
  const fixes = new Map<RawFinding, RawFinding['fix']>();
  const kept = findings.filter((f) => {
    if (f.kind !== 'rule') return true;
    const flow = flows.find((t) => sameWeakness(f, t));
    if (!flow) return true;
    if (f.fix && !flow.fix && !fixes.has(flow)) fixes.set(flow, f.fix);
    return false;
  });
  return kept.map((f) => (fixes.has(f) ? { ...f, fix: fixes.get(f) } : f));
}

function changedFilter(changed: ChangedSince | undefined): (path: string) => boolean {
  if (!changed) return () => true;
  const set = new Set(changed.paths.map((p) => p.replace(/\\/g, '/').replace(/^\.\//, '')));
  return (path) => set.has(path);
}

/** Scans files given in memory, e.g. extracted from a source tarball. */
export function scanFiles(files: readonly SourceFile[], options: ScanOptions = {}): ScanResult {
  const started = performance.now();
  const config = options.config ?? DEFAULT_CONFIG;
  const inChangeSet = changedFilter(options.changedSince);
  const { files: kept, skipped } = filterFiles(files.filter((f) => inChangeSet(f.path)), {
    ignore: config.ignore,
    maxFileSize: config.maxFileSize,
  });
  // Content checks already ran in filterFiles; the loader hands the text straight through.
  const pending = kept.map((f) => ({ path: f.path, load: () => f.source }));
  return runScan(pending, skipped, options, started);
}

/** The files of a directory a scan reads, relative to it, with their sizes, and those skipped without reading. */
export function listScanPaths(dir: string, options: ScanOptions = {}): { paths: string[]; sizes: Map<string, number>; skipped: SkippedFile[] } {
  const config = options.config ?? DEFAULT_CONFIG;
  const inChangeSet = changedFilter(options.changedSince);
  const walk = walkDirectory(dir, { ignore: config.ignore, maxFileSize: config.maxFileSize });
  return { paths: walk.paths.filter((p) => inChangeSet(p) && !isVendoredPath(p)), sizes: walk.sizes, skipped: walk.skipped };
}

/** A file of a directory on disk, read when scanned. */
export function diskFile(dir: string, path: string): PendingFile {
  return { path, load: () => readFileSync(join(dir, path)) };
}

/**
 * Scans a directory on disk in this thread, reading one file at a time. `scanDirectoryParallel`
 * (parallel-scan.ts) spreads the same work over worker threads.
 */
export function scanDirectory(dir: string, options: ScanOptions = {}): ScanResult {
  const started = performance.now();
  const { paths, skipped } = listScanPaths(dir, options);
  return runScan(paths.map((path) => diskFile(dir, path)), skipped, options, started);
}
