/**
 * The fetch step: the repository at the scan's exact commit, as a gzip tar streamed into the bucket
 * (`sources/<scanId>.tar.gz`) while a manifest of its regular files (path, size, sha256) is built from the same
 * bytes under the archive defences. GitHub repositories come from the tarball API as the App's installation;
 * local repositories (local stack only) from `git archive` of the connected working tree.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { CONFIG_FILE_NAME } from '../analysis/config.ts';
import { resolveLocalRepository } from '../api/repositories.ts';
import { findRepository, type Repository } from '../db/repositories.ts';
import { installationClient, statusOf } from '../github/client.ts';
import type { ScanState } from '../runtime/jobs.ts';
import { DEFAULT_ARCHIVE_LIMITS, hashStream, walkArchive, type ArchiveLimits } from './archive.ts';
import { ScanRefusedError } from './errors.ts';
import { deleteObject, keys, putJson, uploadStream } from './storage.ts';

/** A regular file of the fetched tree. */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly scanId: string;
  readonly commitSha: string;
  readonly files: ManifestFile[];
  /** The repository's `.codeguardian.yml`, when it has one of at most {@link MAX_CONFIG_BYTES}. */
  readonly configText?: string;
  readonly links: number;
  readonly ignored: number;
  readonly totalBytes: number;
  readonly compressedBytes: number;
}

export interface FetchedSource {
  readonly sourceKey: string;
  readonly manifestKey: string;
  readonly commitSha: string;
  readonly fileCount: number;
  readonly totalBytes: number;
}

const MAX_CONFIG_BYTES = 64 * 1024;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const SAFE_REF = /^(?!-)[A-Za-z0-9._/-]{1,255}$/;

interface Archive {
  readonly commitSha: string;
  readonly stream: Readable;
}

function notFound(error: unknown): boolean {
  const status = statusOf(error);
  return status === 404 || status === 422;
}

async function githubArchive(repo: Repository, job: ScanState): Promise<Archive> {
  if (!repo.installationId) throw new ScanRefusedError(`${repo.fullName} has no GitHub App installation recorded`, 'APP_NOT_INSTALLED');
  const octokit = await installationClient(repo.installationId);
  const target = { owner: repo.owner, repo: repo.name };
  let commitSha = job.commitSha?.toLowerCase();
  if (!commitSha) {
    const ref = job.branch ?? repo.defaultBranch;
    try {
      commitSha = (await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', { ...target, ref })).data.sha;
    } catch (error) {
      if (notFound(error)) throw new ScanRefusedError(`Branch ${ref} of ${repo.fullName} was not found on GitHub`, 'REF_NOT_FOUND');
      throw error;
    }
  }
  try {
    const answer = await octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', { ...target, ref: commitSha, request: { parseSuccessResponseBody: false } });
    const body = answer.data as unknown as WebReadableStream<Uint8Array> | null;
    if (!body) throw new Error(`GitHub sent no tarball for ${repo.fullName}@${commitSha}`);
    return { commitSha, stream: Readable.fromWeb(body) };
  } catch (error) {
    if (notFound(error)) throw new ScanRefusedError(`Commit ${commitSha} of ${repo.fullName} was not found on GitHub`, 'REF_NOT_FOUND');
    throw error;
  }
}

const run = promisify(execFile);

async function localArchive(repo: Repository, job: ScanState): Promise<Archive> {
  if (!repo.localPath) throw new ScanRefusedError(`${repo.fullName} has no local path`, 'REPOSITORY_NOT_FOUND');
  // Connecting checked the path; it is checked again because LOCAL_REPO_ROOT or the tree may have changed since.
  const { realPath } = resolveLocalRepository(repo.localPath);
  const ref = job.commitSha ?? job.branch ?? repo.defaultBranch;
  if (!SAFE_REF.test(ref)) throw new ScanRefusedError(`${JSON.stringify(ref)} is not a valid branch or commit`, 'REF_NOT_FOUND');
  let commitSha: string;
  try {
    commitSha = (await run('git', ['-C', realPath, 'rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).stdout.trim();
  } catch {
    throw new ScanRefusedError(`${ref} was not found in the local repository ${repo.fullName}`, 'REF_NOT_FOUND');
  }
  if (!SHA.test(commitSha)) throw new Error(`git rev-parse answered ${JSON.stringify(commitSha)}`);
  const child = spawn('git', ['-C', realPath, 'archive', '--format=tar', `--prefix=${repo.name}-${commitSha.slice(0, 7)}/`, commitSha], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gzip = createGzip();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 2000) stderr += chunk.toString('utf8');
  });
  child.stdout.pipe(gzip, { end: false });
  child.on('error', (error) => gzip.destroy(error));
  child.on('close', (code) => {
    if (code === 0) gzip.end();
    else gzip.destroy(new Error(`git archive exited with ${code}: ${stderr.trim().slice(0, 500)}`));
  });
  return { commitSha, stream: gzip };
}

/**
 * Streams a gzip tar into the bucket and builds its manifest from the same bytes; a refused or unreadable
 * archive leaves nothing in the bucket.
 */
export async function ingestArchive(scanId: string, commitSha: string, archive: Readable, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<FetchedSource> {
  const sourceKey = keys.source(scanId);
  const toBucket = new PassThrough();
  const toManifest = new PassThrough();
  archive.pipe(toBucket);
  archive.pipe(toManifest);
  archive.on('error', (error) => {
    toBucket.destroy(error);
    toManifest.destroy(error);
  });
  const upload = uploadStream(sourceKey, toBucket, 'application/gzip');
  const uploaded = upload.done();
  uploaded.catch(() => undefined);
  const files = new Map<string, ManifestFile>();
  let configText: string | undefined;
  try {
    const stats = await walkArchive(
      toManifest,
      async (file, body) => {
        if (files.has(file.path)) throw new ScanRefusedError(`Source archive refused: it holds ${JSON.stringify(file.path)} twice`, 'ARCHIVE_DUPLICATE');
        if (file.path === CONFIG_FILE_NAME && file.size <= MAX_CONFIG_BYTES) {
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(chunk as Buffer);
          const content = Buffer.concat(chunks);
          configText = content.toString('utf8');
          files.set(file.path, { ...file, sha256: createHash('sha256').update(content).digest('hex') });
          return;
        }
        files.set(file.path, { ...file, sha256: await hashStream(body) });
      },
      limits,
    );
    await uploaded;
    const manifest: Manifest = {
      scanId,
      commitSha,
      // Archive order: shards of consecutive files let each shard stop reading the archive after its last file.
      files: [...files.values()],
      ...(configText !== undefined ? { configText } : {}),
      links: stats.links,
      ignored: stats.ignored,
      totalBytes: stats.totalBytes,
      compressedBytes: stats.compressedBytes,
    };
    await putJson(keys.manifest(scanId), manifest);
    return { sourceKey, manifestKey: keys.manifest(scanId), commitSha, fileCount: manifest.files.length, totalBytes: stats.totalBytes };
  } catch (error) {
    // Ending the upload's body fails the upload (a multipart one is aborted by the library); then whatever reached
    // the bucket, including a small archive already put whole, is deleted.
    archive.destroy();
    toBucket.destroy(error as Error);
    await uploaded.catch(() => undefined);
    await deleteObject(sourceKey);
    throw error;
  }
}

/** The fetch step's work for one scan job. */
export async function fetchSource(job: ScanState, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<FetchedSource> {
  const repo = await findRepository(job.repositoryId);
  if (!repo) throw new ScanRefusedError('The repository is no longer connected', 'REPOSITORY_NOT_FOUND');
  const archive = repo.provider === 'local' ? await localArchive(repo, job) : await githubArchive(repo, job);
  return ingestArchive(job.scanId, archive.commitSha, archive.stream, limits);
}
