/**
 * Reading repository archives (gzip tar, one top folder, as GitHub's tarball API and `git archive --prefix`
 * produce them) with defences against hostile input: every entry is checked before a byte of it is used, and a
 * refused archive ends the scan with the reason. Absolute paths, `..` segments, entries outside the top folder and
 * links that leave the tree are refused; links inside the tree are skipped (never followed, never extracted);
 * devices and fifos are ignored. File count, declared and inflated size, per-file size and the compression ratio
 * are capped while the stream is read, so a decompression bomb is stopped long before it is inflated.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath } from 'node:fs/promises';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { ScanRefusedError } from './errors.ts';

export interface ArchiveLimits {
  /** Regular files in the archive. */
  readonly maxFiles: number;
  /** Sum of the declared sizes of regular files, and (with headers) of the inflated stream. */
  readonly maxTotalBytes: number;
  readonly maxFileBytes: number;
  /** Inflated bytes per compressed byte, checked once {@link ratioGraceBytes} are inflated. */
  readonly maxRatio: number;
  readonly ratioGraceBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxFiles: 100_000,
  maxTotalBytes: 1024 * MiB,
  // GitHub refuses files above 100 MB, so a larger entry is not a real repository file.
  maxFileBytes: 100 * MiB,
  // Source trees compress 4-10x; highly repetitive text rarely passes 50x; a bomb is in the thousands.
  maxRatio: 200,
  ratioGraceBytes: 16 * MiB,
};

/** A regular file of the archive, its path relative to the top folder (`/`-separated). */
export interface ArchiveFile {
  readonly path: string;
  readonly size: number;
}

export interface WalkStats {
  readonly files: number;
  /** Symbolic and hard links inside the tree, skipped. */
  readonly links: number;
  /** Devices, fifos and other special entries, ignored. */
  readonly ignored: number;
  /** Sum of regular file sizes. */
  readonly totalBytes: number;
  readonly compressedBytes: number;
  readonly topFolder: string | undefined;
}

/**
 * Called for each regular file; must consume `body` (read it to the end or resume it). Answering `stop` ends the
 * walk early, without reading the rest of the archive.
 */
export type FileVisitor = (file: ArchiveFile, body: Readable) => Promise<void | 'stop'>;

const refused = (reason: string, code = 'ARCHIVE_REFUSED') => new ScanRefusedError(`Source archive refused: ${reason}`, code);

/** Shows a hostile name safely in a reason: control characters escaped, length bounded. */
function shown(name: string): string {
  const text = JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}…` : name);
  return text;
}

/** The entry's path below the top folder ('' for the top folder itself), or a refusal. */
function pathOf(name: string, top: { folder: string | undefined }): string {
  if (name.includes('\0')) throw refused(`entry ${shown(name)} has a NUL character in its name`);
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    throw refused(`entry ${shown(name)} has an absolute path`, 'ARCHIVE_ABSOLUTE_PATH');
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..' || p.split('\\').includes('..'))) {
    throw refused(`entry ${shown(name)} climbs out of the repository folder (..)`, 'ARCHIVE_PATH_TRAVERSAL');
  }
  const [first, ...rest] = parts;
  if (first === undefined) throw refused(`entry ${shown(name)} has an empty path`);
  if (top.folder === undefined) top.folder = first;
  else if (first !== top.folder) throw refused(`entry ${shown(name)} is outside the archive's top folder ${shown(top.folder)}`, 'ARCHIVE_LAYOUT');
  return rest.join('/');
}

/** Refuses a link whose target leaves the tree (a symlink's target is relative to its folder; a hard link's names an entry). */
function checkLink(path: string, type: 'symlink' | 'link', target: string, topFolder: string): void {
  const what = type === 'symlink' ? 'symbolic link' : 'hard link';
  if (target === '') throw refused(`${what} ${shown(path)} has no target`, 'ARCHIVE_LINK');
  if (target.startsWith('/') || target.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(target)) {
    throw refused(`${what} ${shown(path)} points to the absolute path ${shown(target)}`, 'ARCHIVE_LINK_OUTSIDE');
  }
  let inside: string;
  if (type === 'symlink') {
    inside = posix.normalize(posix.join(posix.dirname(path), target));
  } else {
    const normal = posix.normalize(target);
    inside = normal.startsWith(`${topFolder}/`) ? normal.slice(topFolder.length + 1) : '..';
  }
  if (inside === '..' || inside.startsWith('../')) {
    throw refused(`${what} ${shown(path)} points outside the repository (${shown(target)})`, 'ARCHIVE_LINK_OUTSIDE');
  }
}

/**
 * Reads a gzip tar stream to its end, calling `onFile` for each regular file after the checks above; throws a
 * {@link ScanRefusedError} on the first hostile entry or exceeded cap, and a plain error for a corrupt stream.
 */
export async function walkArchive(gzipped: Readable, onFile: FileVisitor, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<WalkStats> {
  let compressed = 0;
  let inflated = 0;
  // Headers and padding: at most 1.5 KiB per entry on top of the file bytes.
  const inflatedCap = limits.maxTotalBytes + (limits.maxFiles + 1000) * 1536;
  const countCompressed = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      compressed += chunk.length;
      callback(null, chunk);
    },
  });
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      inflated += chunk.length;
      if (inflated > inflatedCap) return callback(refused(`it inflates to more than ${inflatedCap} bytes`, 'ARCHIVE_TOO_LARGE'));
      if (inflated > limits.ratioGraceBytes && inflated > compressed * limits.maxRatio) {
        return callback(
          refused(`it inflates more than ${limits.maxRatio} times its compressed size (${inflated} bytes from ${compressed}): a decompression bomb`, 'ARCHIVE_BOMB'),
        );
      }
      callback(null, chunk);
    },
  });
  const extract = tar.extract();
  let pipeError: unknown;
  const piping = pipeline(gzipped, countCompressed, createGunzip(), meter, extract).catch((error: unknown) => {
    pipeError = error;
  });

  const top: { folder: string | undefined } = { folder: undefined };
  let files = 0;
  let links = 0;
  let ignored = 0;
  let totalBytes = 0;
  let stopped = false;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      const type = header.type ?? 'file';
      const path = pathOf(header.name, top);
      if (type === 'file' || type === 'contiguous-file') {
        if (path === '') throw refused(`the top folder ${shown(header.name)} is a file`, 'ARCHIVE_LAYOUT');
        const size = header.size ?? 0;
        if (++files > limits.maxFiles) throw refused(`it has more than ${limits.maxFiles} files`, 'ARCHIVE_TOO_MANY_FILES');
        if (size > limits.maxFileBytes) throw refused(`file ${shown(path)} is ${size} bytes, over the ${limits.maxFileBytes}-byte limit`, 'ARCHIVE_FILE_TOO_LARGE');
        totalBytes += size;
        if (totalBytes > limits.maxTotalBytes) throw refused(`its files add up to more than ${limits.maxTotalBytes} bytes`, 'ARCHIVE_TOO_LARGE');
        if ((await onFile({ path, size }, entry as unknown as Readable)) === 'stop') {
          stopped = true;
          break;
        }
      } else if (type === 'symlink' || type === 'link') {
        checkLink(path, type, header.linkname ?? '', top.folder as string);
        links++;
        entry.resume();
      } else {
        if (type !== 'directory') ignored++;
        entry.resume();
      }
    }
  } catch (error) {
    extract.destroy(error as Error);
    gzipped.destroy();
    await piping;
    throw error === pipeError ? unreadable(error) : error;
  }
  if (stopped) {
    // The rest of the stream is not wanted: its premature end is no error.
    gzipped.destroy();
    extract.destroy();
    await piping;
  } else {
    await piping;
    if (pipeError) throw unreadable(pipeError);
  }
  return { files, links, ignored, totalBytes, compressedBytes: compressed, topFolder: top.folder };
}

/** A stream error as the scan's reason: refusals as they are, anything else as an unreadable archive. */
function unreadable(error: unknown): Error {
  if (error instanceof ScanRefusedError) return error;
  return new Error(`Source archive is not a readable gzip tar: ${(error as Error).message}`, { cause: error });
}

/** sha256 (hex) of a stream's bytes, consuming it. */
export async function hashStream(body: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** True when `path` is `root` or below it (both absolute). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/**
 * Extracts the listed files (path → expected sha256) from the archive into `destination`, with the walk's
 * defences plus: every target must resolve inside the destination's real path, files are created without
 * following a link at the final component, and each file's content must hash to the expected value (the archive
 * is the one the plan was made from). Reading stops after the last listed file. Returns the paths written; a
 * listed file missing from the archive throws.
 */
export async function extractFiles(
  gzipped: Readable,
  wanted: ReadonlyMap<string, string>,
  destination: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<string[]> {
  await mkdir(destination, { recursive: true });
  const root = await realpath(destination);
  const written = new Set<string>();
  await walkArchive(
    gzipped,
    async (file, body) => {
      const expected = wanted.get(file.path);
      if (expected === undefined || written.has(file.path)) {
        body.resume();
        return;
      }
      const target = resolve(root, ...file.path.split('/'));
      if (!isInside(root, target) || target === root) throw refused(`entry ${shown(file.path)} would be written outside the scan folder`, 'ARCHIVE_PATH_TRAVERSAL');
      await mkdir(dirname(target), { recursive: true });
      const parent = await realpath(dirname(target));
      if (!isInside(root, parent)) throw refused(`entry ${shown(file.path)} would be written outside the scan folder`, 'ARCHIVE_PATH_TRAVERSAL');
      const hash = createHash('sha256');
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
      const handle = await open(target, flags, 0o600);
      await pipeline(body, hasher, handle.createWriteStream());
      if (hash.digest('hex') !== expected) throw new Error(`Source archive changed since it was planned: ${file.path} has other content`);
      written.add(file.path);
      return written.size === wanted.size ? 'stop' : undefined;
    },
    limits,
  );
  const missing = [...wanted.keys()].filter((path) => !written.has(path));
  if (missing.length > 0) throw new Error(`Source archive lacks ${missing.length} planned file(s), e.g. ${missing[0]}`);
  return [...written];
}

/** Joins a manifest path under a folder (for reading extracted files back). */
export function extractedPath(destination: string, path: string): string {
  return join(destination, ...path.split('/'));
}
