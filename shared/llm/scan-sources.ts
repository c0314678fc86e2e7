/**
 * The code the scan's model pass reads: files of the scanned commit taken from the scan's source archive (only
 * the paths asked for, through the pipeline's archive defences), and the changed regions of a push or pull request
 * from the diff between its base and head commits (GitHub's compare API, or git for local repositories).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parsePatch } from 'diff';
import { isVendoredPath } from '../analysis/files.ts';
import { detectLanguage } from '../analysis/languages.ts';
import { resolveLocalRepository } from '../api/repositories.ts';
import { findRepository, type Repository } from '../db/repositories.ts';
import { installationClient } from '../github/client.ts';
import { walkArchive } from '../pipeline/archive.ts';
import { readStream } from '../pipeline/storage.ts';
import { logger } from '../runtime/powertools.ts';
import type { SourceFiles } from './context.ts';
import type { ChangedFile } from './discovery.ts';
import type { ScanSources } from './scan-triage.ts';
import { mergeWindows, type LineWindow } from './untrusted.ts';

/** Files larger than this are not read for the model (the excerpts are a few dozen lines of them). */
export const MAX_MODEL_FILE_BYTES = 1024 * 1024;
/** At most this many changed files go to discovery per scan, the most changed lines first. */
export const MAX_DISCOVERY_FILES = 20;

const COMMIT = /^[0-9a-f]{7,64}$/i;

/** The given paths of a scan's source archive, as text; paths missing or too large are left out. */
export async function archiveFiles(sourceKey: string, paths: readonly string[]): Promise<Map<string, string>> {
  const wanted = new Set(paths);
  const out = new Map<string, string>();
  if (wanted.size === 0) return out;
  await walkArchive(await readStream(sourceKey), async (file, body) => {
    if (!wanted.has(file.path) || file.size > MAX_MODEL_FILE_BYTES) {
      body.resume();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    out.set(file.path, Buffer.concat(chunks).toString('utf8'));
  });
  return out;
}

/** Lines added or changed in the new version, per file, from a unified diff (one file's hunks or a whole `git diff`). */
export function changedLines(patch: string, path?: string): Map<string, LineWindow[]> {
  const out = new Map<string, LineWindow[]>();
  for (const file of parsePatch(patch)) {
    const name = path ?? file.newFileName?.replace(/^b\//, '');
    if (!name || name === '/dev/null') continue;
    const windows: LineWindow[] = [];
    for (const hunk of file.hunks) {
      let line = hunk.newStart;
      for (const text of hunk.lines) {
        if (text.startsWith('+')) {
          windows.push({ start: line, end: line });
          line += 1;
        } else if (text.startsWith(' ')) {
          line += 1;
        }
      }
    }
    if (windows.length > 0) out.set(name, mergeWindows([...(out.get(name) ?? []), ...windows]));
  }
  return out;
}

interface CompareFile {
  readonly filename: string;
  readonly status: string;
  readonly patch?: string;
}

/** Changed lines between two commits of a GitHub repository, from the compare API's per-file patches. */
async function githubChanges(repo: Repository, base: string, head: string): Promise<Map<string, LineWindow[] | 'whole'>> {
  if (!repo.installationId) return new Map();
  const octokit = await installationClient(repo.installationId);
  const [owner, name] = repo.fullName.split('/');
  const answer = await octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', { owner: owner ?? '', repo: name ?? '', basehead: `${base}...${head}` });
  const out = new Map<string, LineWindow[] | 'whole'>();
  for (const file of (answer.data as { files?: CompareFile[] }).files ?? []) {
    if (file.status === 'removed') continue;
    if (file.patch) {
      const lines = changedLines(file.patch, file.filename).get(file.filename);
      if (lines) out.set(file.filename, lines);
    } else if (file.status === 'added') {
      // GitHub leaves out the patch of large files; a new file is changed as a whole.
      out.set(file.filename, 'whole');
    }
  }
  return out;
}

const run = promisify(execFile);

/** Changed lines between two commits of a local repository (local stack only), from `git diff`. */
async function localChanges(repo: Repository, base: string, head: string): Promise<Map<string, LineWindow[] | 'whole'>> {
  if (!repo.localPath) return new Map();
  const { realPath } = resolveLocalRepository(repo.localPath);
  const { stdout } = await run('git', ['-C', realPath, 'diff', '--unified=0', '--no-color', '--no-ext-diff', '--no-renames', base, head, '--'], { maxBuffer: 64 * 1024 * 1024 });
  return changedLines(stdout);
}

export interface ScanSourceRef {
  readonly scanId: string;
  readonly repositoryId: string;
  readonly sourceKey: string;
  readonly commitSha: string;
  readonly baseSha?: string;
}

/**
 * The changed files of a scan with a base commit, limited to analysable source (no vendored code), the most
 * changed first; empty for a scan without a base. A diff that cannot be read leaves discovery out, never the scan.
 */
export async function changedFiles(scan: ScanSourceRef): Promise<ChangedFile[]> {
  if (!scan.baseSha || !COMMIT.test(scan.baseSha) || scan.baseSha === scan.commitSha) return [];
  const repo = await findRepository(scan.repositoryId);
  if (!repo) return [];
  let changes: Map<string, LineWindow[] | 'whole'>;
  try {
    changes = repo.provider === 'local' ? await localChanges(repo, scan.baseSha, scan.commitSha) : await githubChanges(repo, scan.baseSha, scan.commitSha);
  } catch (error) {
    logger.warn('Could not read the changes of a scan; discovery skipped', { scanId: scan.scanId, error: error as Error });
    return [];
  }
  const size = (w: LineWindow[] | 'whole') => (w === 'whole' ? Number.MAX_SAFE_INTEGER : w.reduce((n, x) => n + x.end - x.start + 1, 0));
  const candidates = [...changes]
    .filter(([path]) => detectLanguage(path) !== undefined && !isVendoredPath(path))
    .sort((a, b) => size(b[1]) - size(a[1]) || a[0].localeCompare(b[0]))
    .slice(0, MAX_DISCOVERY_FILES);
  const sources = await archiveFiles(scan.sourceKey, candidates.map(([path]) => path));
  return candidates.flatMap(([path, windows]) => {
    const source = sources.get(path);
    if (source === undefined) return [];
    const changed = windows === 'whole' ? [{ start: 1, end: source.split('\n').length }] : windows;
    return [{ path, language: detectLanguage(path, source), source, changed }];
  });
}

/** The model pass's view of a scan's code. */
export function scanSources(scan: ScanSourceRef): ScanSources {
  return {
    files: (paths): Promise<SourceFiles> => archiveFiles(scan.sourceKey, paths),
    changed: () => changedFiles(scan),
  };
}
