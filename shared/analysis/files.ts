/**
 * File discovery. Walks a directory (or filters an in-memory list) honouring .gitignore files and configured
 * ignore globs, and skips vendored, generated, minified, binary and oversized files. Symlinks are never
 * followed out of the root, and symlinked directories are not entered at all (their targets inside the root
 * are walked directly, which also rules out loops).
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { DEFAULT_MAX_FILE_SIZE } from './config.ts';

export type SkipReason =
  | 'ignored'
  | 'gitignored'
  | 'vendored'
  | 'generated'
  | 'minified'
  | 'binary'
  | 'too-large'
  | 'symlink-outside-root'
  | 'unreadable';

export interface SkippedFile {
  readonly path: string;
  readonly reason: SkipReason;
}

export interface SourceFile {
  /** Relative to the scan root, `/`-separated. */
  readonly path: string;
  readonly source: string;
}

export interface DiscoveryOptions {
  /** Gitignore-style globs, relative to the root. */
  readonly ignore?: readonly string[];
  /** @default 1 MiB */
  readonly maxFileSize?: number;
}

export const VENDORED_DIRS = new Set([
  '.git', '.hg', '.svn', 'node_modules', 'bower_components', 'jspm_packages', 'vendor', 'third_party',
  'third-party', 'thirdparty', '.venv', 'venv', 'site-packages', '__pycache__', '.tox', '.mypy_cache',
  '.pytest_cache', '.gradle', '.idea', '.codeguardian',
]);

const GENERATED_NAMES = [
  /\.min\.(js|css|mjs)$/i, /[.-]bundle\.js$/i, /\.pb\.go$/, /_pb2(_grpc)?\.py$/, /\.generated\.\w+$/i, /_generated\.go$/,
  /\.map$/, /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|go\.sum|poetry\.lock|Pipfile\.lock|Cargo\.lock|composer\.lock)$/,
];
const GENERATED_HEADER = /(@generated\b|\bcode generated\b.*\bdo not edit\b|\bauto-?generated\b|\bthis file (is|was) generated\b)/i;
/** A line this long is not hand-written code. */
const MINIFIED_LINE = 2000;
/** Bytes inspected for a NUL byte, as git does. */
const BINARY_PROBE = 8000;

export function isVendoredPath(path: string): boolean {
  return path.split('/').slice(0, -1).some((segment) => VENDORED_DIRS.has(segment));
}

/** Content checks: binary (NUL byte), generated (name or header), minified (very long lines). */
export function classifyContent(path: string, content: string | Buffer): SkipReason | undefined {
  if (GENERATED_NAMES.some((re) => re.test(path))) return 'generated';
  const probe = typeof content === 'string' ? content.slice(0, BINARY_PROBE) : content.subarray(0, BINARY_PROBE);
  if (typeof probe === 'string' ? probe.includes('\0') : probe.includes(0)) return 'binary';
  const text = typeof content === 'string' ? content : content.toString('utf8');
  const head = text.slice(0, 2000).split('\n').slice(0, 5).join('\n');
  if (GENERATED_HEADER.test(head)) return 'generated';
  let lineStart = 0;
  while (lineStart < text.length) {
    let end = text.indexOf('\n', lineStart);
    if (end === -1) end = text.length;
    if (end - lineStart > MINIFIED_LINE) return 'minified';
    lineStart = end + 1;
  }
  return undefined;
}

interface IgnoreScope {
  /** Directory of the .gitignore, relative to the root ('' for the root), with a trailing slash. */
  readonly base: string;
  readonly matcher: Ignore;
}

function ignoredBy(scopes: readonly IgnoreScope[], path: string, isDir: boolean): boolean {
  for (const scope of scopes) {
    if (!path.startsWith(scope.base)) continue;
    const rel = path.slice(scope.base.length) + (isDir ? '/' : '');
    if (rel && scope.matcher.ignores(rel)) return true;
  }
  return false;
}

export interface WalkResult {
  /** Candidate files, relative to the root, in a stable order; content checks happen when each is read. */
  readonly paths: string[];
  /** Each path's size in bytes, by path. */
  readonly sizes: Map<string, number>;
  readonly skipped: SkippedFile[];
}

/** Lists the files under root that may be scanned, applying every check that needs no file content. */
export function walkDirectory(root: string, options: DiscoveryOptions = {}): WalkResult {
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const realRoot = realpathSync(root);
  const configIgnore = ignore().add([...(options.ignore ?? [])]);
  const paths: string[] = [];
  const sizes = new Map<string, number>();
  const skipped: SkippedFile[] = [];

  const visit = (absDir: string, relDir: string, scopes: readonly IgnoreScope[]) => {
    let names: string[];
    try {
      names = readdirSync(absDir).sort();
    } catch {
      skipped.push({ path: relDir || '.', reason: 'unreadable' });
      return;
    }
    let localScopes = scopes;
    if (names.includes('.gitignore')) {
      try {
        const text = statSync(join(absDir, '.gitignore')).size <= maxFileSize ? readFileSync(join(absDir, '.gitignore'), 'utf8') : '';
        localScopes = [...scopes, { base: relDir ? `${relDir}/` : '', matcher: ignore().add(text) }];
      } catch {
        // An unreadable .gitignore leaves the parent scopes in force.
      }
    }
    for (const name of names) {
      const abs = join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      let stat = lstatSync(abs);
      if (stat.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(abs);
        } catch {
          skipped.push({ path: rel, reason: 'unreadable' });
          continue;
        }
        if (target !== realRoot && !target.startsWith(realRoot + sep)) {
          skipped.push({ path: rel, reason: 'symlink-outside-root' });
          continue;
        }
        stat = statSync(abs);
        if (stat.isDirectory()) continue;
      }
      const isDir = stat.isDirectory();
      if (isDir && VENDORED_DIRS.has(name)) {
        if (name !== '.git') skipped.push({ path: rel, reason: 'vendored' });
        continue;
      }
      if (configIgnore.ignores(isDir ? `${rel}/` : rel)) {
        skipped.push({ path: rel, reason: 'ignored' });
        continue;
      }
      if (ignoredBy(localScopes, rel, isDir)) {
        skipped.push({ path: rel, reason: 'gitignored' });
        continue;
      }
      if (isDir) {
        visit(abs, rel, localScopes);
      } else if (stat.isFile()) {
        if (stat.size > maxFileSize) skipped.push({ path: rel, reason: 'too-large' });
        else {
          paths.push(rel);
          sizes.set(rel, stat.size);
        }
      }
    }
  };
  visit(realRoot, '', []);
  return { paths, sizes, skipped };
}

/**
 * Applies the same rules to an in-memory list (files from a tarball): .gitignore files in the list are honoured
 * for the paths below them.
 */
export function filterFiles(files: readonly SourceFile[], options: DiscoveryOptions = {}): { files: SourceFile[]; skipped: SkippedFile[] } {
  const maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const configIgnore = ignore().add([...(options.ignore ?? [])]);
  const scopes: IgnoreScope[] = files
    .filter((f) => f.path === '.gitignore' || f.path.endsWith('/.gitignore'))
    .map((f) => ({ base: f.path.slice(0, -'.gitignore'.length), matcher: ignore().add(f.source) }))
    .sort((a, b) => a.base.length - b.base.length);
  const kept: SourceFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const file of files) {
    const path = file.path.replace(/\\/g, '/').replace(/^\.?\//, '');
    let reason: SkipReason | undefined;
    if (path.split('/').some((s) => s === '..')) reason = 'symlink-outside-root';
    else if (isVendoredPath(path)) reason = 'vendored';
    else if (configIgnore.ignores(path)) reason = 'ignored';
    else if (ignoredBy(scopes, path, false) || parentIgnored(scopes, path)) reason = 'gitignored';
    else if (Buffer.byteLength(file.source, 'utf8') > maxFileSize) reason = 'too-large';
    else reason = classifyContent(path, file.source);
    if (reason) skipped.push({ path, reason });
    else kept.push({ path, source: file.source });
  }
  return { files: kept, skipped };
}

function parentIgnored(scopes: readonly IgnoreScope[], path: string): boolean {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    if (ignoredBy(scopes, parts.slice(0, i).join('/'), true)) return true;
  }
  return false;
}

/** Path relative to root with `/` separators. */
export function toPosixRelative(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/');
}
