import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_ARCHIVE_LIMITS, extractFiles, hashStream, walkArchive, type ArchiveFile } from '../../../shared/pipeline/archive.ts';
import { ScanRefusedError } from '../../../shared/pipeline/errors.ts';
import { makeArchive, streamOf, zeroBomb, type EntrySpec } from './make-archive.ts';

const TOP = 'octo-repo-abc1234';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function walk(entries: EntrySpec[], limits = DEFAULT_ARCHIVE_LIMITS) {
  const files: (ArchiveFile & { sha256: string })[] = [];
  const stats = await walkArchive(streamOf(await makeArchive(entries)), async (file, body) => {
    files.push({ ...file, sha256: await hashStream(body) });
  }, limits);
  return { files, stats };
}

async function refusal(promise: Promise<unknown>): Promise<ScanRefusedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ScanRefusedError);
    return error as ScanRefusedError;
  }
  throw new Error('the archive was accepted');
}

describe('walkArchive', () => {
  it('lists regular files below the top folder with size and sha256, skipping links inside the tree and ignoring devices', async () => {
    const { files, stats } = await walk([
      { name: `${TOP}/`, type: 'directory' },
      { name: `${TOP}/src/app.js`, content: 'console.log(1)\n' },
      { name: `${TOP}/README.md`, content: '# hi' },
      { name: `${TOP}/src/link.js`, type: 'symlink', linkname: 'app.js' },
      { name: `${TOP}/docs/up.md`, type: 'symlink', linkname: '../README.md' },
      { name: `${TOP}/hard.js`, type: 'link', linkname: `${TOP}/src/app.js` },
      { name: `${TOP}/pipe`, type: 'fifo' },
      { name: `${TOP}/tty`, type: 'character-device' },
    ]);
    expect(files).toEqual([
      { path: 'src/app.js', size: 15, sha256: sha('console.log(1)\n') },
      { path: 'README.md', size: 4, sha256: sha('# hi') },
    ]);
    expect(stats).toMatchObject({ files: 2, links: 3, ignored: 2, totalBytes: 19, topFolder: TOP });
  });

  it.each<[string, EntrySpec[], string]>([
    ['an absolute path', [{ name: '/etc/passwd', content: 'x' }], 'ARCHIVE_ABSOLUTE_PATH'],
    ['a .. segment', [{ name: `${TOP}/`, type: 'directory' }, { name: `${TOP}/../../evil.sh`, content: 'x' }], 'ARCHIVE_PATH_TRAVERSAL'],
    ['a .. segment hidden in the middle', [{ name: `${TOP}/a/../../../evil.sh`, content: 'x' }], 'ARCHIVE_PATH_TRAVERSAL'],
    ['a symlink out of the tree', [{ name: `${TOP}/a.js`, content: 'x' }, { name: `${TOP}/etc`, type: 'symlink', linkname: '../../../../etc' }], 'ARCHIVE_LINK_OUTSIDE'],
    ['a symlink to an absolute path', [{ name: `${TOP}/passwd`, type: 'symlink', linkname: '/etc/passwd' }], 'ARCHIVE_LINK_OUTSIDE'],
    ['a hard link out of the tree', [{ name: `${TOP}/a.js`, content: 'x' }, { name: `${TOP}/h`, type: 'link', linkname: 'etc/passwd' }], 'ARCHIVE_LINK_OUTSIDE'],
    ['a second top folder', [{ name: `${TOP}/a.js`, content: 'x' }, { name: 'other/b.js', content: 'y' }], 'ARCHIVE_LAYOUT'],
  ])('refuses %s with a clear reason', async (_, entries, code) => {
    const error = await refusal(walk(entries));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(/^Source archive refused: /);
  });

  it('refuses more files than the cap, a file over the per-file cap and a total over the cap', async () => {
    const many = Array.from({ length: 6 }, (_, i) => ({ name: `${TOP}/f${i}.txt`, content: '' }));
    expect((await refusal(walk(many, { ...DEFAULT_ARCHIVE_LIMITS, maxFiles: 5 }))).code).toBe('ARCHIVE_TOO_MANY_FILES');
    const big = [{ name: `${TOP}/big.bin`, content: Buffer.alloc(2048) }];
    expect((await refusal(walk(big, { ...DEFAULT_ARCHIVE_LIMITS, maxFileBytes: 1024 }))).code).toBe('ARCHIVE_FILE_TOO_LARGE');
    const two = [{ name: `${TOP}/a`, content: Buffer.alloc(800) }, { name: `${TOP}/b`, content: Buffer.alloc(800) }];
    expect((await refusal(walk(two, { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 1000 }))).code).toBe('ARCHIVE_TOO_LARGE');
  });

  it('accepts exactly the file cap', async () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ name: `${TOP}/f${i}.txt`, content: `${i}` }));
    const { stats } = await walk(five, { ...DEFAULT_ARCHIVE_LIMITS, maxFiles: 5 });
    expect(stats.files).toBe(5);
  });

  it('stops a decompression bomb by its ratio before inflating it', async () => {
    const bomb = zeroBomb(24 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(100 * 1024);
    let visited = 0;
    const started = Date.now();
    const error = await refusal(
      walkArchive(streamOf(bomb), async (_file, body) => {
        visited++;
        body.resume();
      }, { ...DEFAULT_ARCHIVE_LIMITS, ratioGraceBytes: 2 * 1024 * 1024 }),
    );
    expect(error.code).toBe('ARCHIVE_BOMB');
    expect(error.message).toMatch(/decompression bomb/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(visited).toBeLessThanOrEqual(1);
  }, 30_000);

  it('reports a corrupt stream as unreadable, not as a refusal', async () => {
    const archive = await makeArchive([{ name: `${TOP}/a.js`, content: 'x'.repeat(10_000) }]);
    const corrupt = Buffer.concat([archive.subarray(0, 40), Buffer.from('garbage that is not deflate data'), archive.subarray(80)]);
    await expect(walkArchive(streamOf(corrupt), async (_f, body) => void body.resume())).rejects.toThrow(/not a readable gzip tar/);
    await expect(walkArchive(streamOf(Buffer.from('plain text')), async (_f, body) => void body.resume())).rejects.toThrow(/not a readable gzip tar/);
  });
});

describe('extractFiles', () => {
  let base: string;
  let dest: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'cg-extract-'));
    dest = join(base, 'scan', 'shard-0');
    outside = join(base, 'outside');
    mkdirSync(outside, { recursive: true });
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const listOutside = () => readdirSync(outside);

  it('writes only the wanted files, inside the destination, with their manifest content', async () => {
    const archive = await makeArchive([
      { name: `${TOP}/src/a.js`, content: 'a' },
      { name: `${TOP}/src/b.js`, content: 'b' },
      { name: `${TOP}/c/d.py`, content: 'd' },
    ]);
    const written = await extractFiles(streamOf(archive), new Map([['src/a.js', sha('a')], ['c/d.py', sha('d')]]), dest);
    expect(written.sort()).toEqual(['c/d.py', 'src/a.js']);
    expect(readFileSync(join(dest, 'src/a.js'), 'utf8')).toBe('a');
    expect(existsSync(join(dest, 'src/b.js'))).toBe(false);
  });

  it('refuses content that does not match the plan and a planned file missing from the archive', async () => {
    const archive = await makeArchive([{ name: `${TOP}/a.js`, content: 'changed' }]);
    await expect(extractFiles(streamOf(archive), new Map([['a.js', sha('original')]]), dest)).rejects.toThrow(/changed since it was planned/);
    await expect(extractFiles(streamOf(archive), new Map([['gone.js', sha('x')]]), join(base, 'other'))).rejects.toThrow(/lacks 1 planned file/);
  });

  it('never writes through a link planted in the destination', async () => {
    mkdirSync(dest, { recursive: true });
    symlinkSync(outside, join(dest, 'sub'));
    symlinkSync(join(outside, 'target.js'), join(dest, 'direct.js'));
    const archive = await makeArchive([{ name: `${TOP}/sub/x.js`, content: 'x' }, { name: `${TOP}/direct.js`, content: 'y' }]);
    const error = await refusal(extractFiles(streamOf(archive), new Map([['sub/x.js', sha('x')]]), dest));
    expect(error.message).toMatch(/outside the scan folder/);
    await expect(extractFiles(streamOf(archive), new Map([['direct.js', sha('y')]]), dest)).rejects.toThrow(/ELOOP|symbolic link/);
    expect(listOutside()).toEqual([]);
  });

  it('refuses a traversal entry before writing anything outside', async () => {
    writeFileSync(join(outside, 'keep'), 'k');
    const archive = await makeArchive([{ name: `${TOP}/../outside/evil.js`, content: 'evil' }]);
    await refusal(extractFiles(streamOf(archive), new Map([['../outside/evil.js', sha('evil')]]), dest));
    expect(listOutside()).toEqual(['keep']);
  });
});
