import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

/** One entry of a hand-made archive; `content` for files, `linkname` for links. */
export interface EntrySpec {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device';
  readonly content?: string | Buffer;
  readonly linkname?: string;
}

/** A gzip tar of the given entries, exactly as listed (no path clean-up: tests build hostile ones on purpose). */
export async function makeArchive(entries: readonly EntrySpec[] | Iterable<EntrySpec>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const content = entry.content === undefined ? undefined : Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content);
    await new Promise<void>((resolve, reject) => {
      const header = { name: entry.name, type, mode: type === 'directory' ? 0o755 : 0o644, ...(entry.linkname ? { linkname: entry.linkname } : {}) };
      if (type === 'file') pack.entry({ ...header, size: content?.length ?? 0 }, content ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
      else pack.entry(header, (error) => (error ? reject(error) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}

/** A gzip tar holding one file of `size` zero bytes: tiny compressed, huge inflated. */
export function zeroBomb(size: number, top = 'repo-abc1234'): Buffer {
  const header = Buffer.from(EMPTY_FILE_TEMPLATE.block);
  header.write(`${top}/zeros.txt`, 0, 100, 'utf8');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = Math.ceil(size / 512) * 512;
  return gzipSync(Buffer.concat([header, Buffer.alloc(padded + 1024)]), { level: 9 });
}

export const streamOf = (buffer: Buffer): Readable => Readable.from([buffer]);

/** The fixed part of a ustar header of an empty regular file, and the checksum of that part. */
const EMPTY_FILE_TEMPLATE = (() => {
  const block = Buffer.alloc(512);
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write('00000000000\0', 124);
  block.write('00000000000\0', 136);
  block.fill(' ', 148, 156);
  block.write('0', 156);
  block.write('ustar\u000000', 257);
  return { block, sum: block.reduce((n, byte) => n + byte, 0) };
})();

/** A gzip tar of `count` empty files under `top/`, written block by block (tar-stream takes far longer). */
export function emptyFilesArchive(count: number, top: string): Buffer {
  const tar = Buffer.alloc(count * 512 + 1024);
  for (let i = 0; i < count; i++) {
    const offset = i * 512;
    EMPTY_FILE_TEMPLATE.block.copy(tar, offset);
    const length = tar.write(`${top}/f/${i}`, offset, 100, 'utf8');
    let sum = EMPTY_FILE_TEMPLATE.sum;
    for (let j = 0; j < length; j++) sum += tar[offset + j] as number;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148);
  }
  return gzipSync(tar, { level: 1 });
}
