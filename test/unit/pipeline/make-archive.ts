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
export async function zeroBomb(size: number, top = 'repo-abc1234'): Promise<Buffer> {
  return makeArchive([{ name: `${top}/`, type: 'directory' }, { name: `${top}/zeros.txt`, content: Buffer.alloc(size) }]);
}

export const streamOf = (buffer: Buffer): Readable => Readable.from([buffer]);
