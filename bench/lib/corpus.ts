/** Benchmark corpora: copies of real files in scratch directories, so every tool sees the same file set. */
import { copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Corpus {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
}

interface FindOptions {
  readonly extensions: readonly string[];
  readonly minBytes?: number;
  readonly maxBytes?: number;
  readonly skip?: (path: string) => boolean;
}

/** Files under `root` with one of the extensions, depth-first in name order (stable across runs). */
export function findFiles(root: string, options: FindOptions): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (options.skip?.(path)) continue;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && options.extensions.some((ext) => entry.name.endsWith(ext))) {
        const size = statSync(path).size;
        if (size >= (options.minBytes ?? 1) && size <= (options.maxBytes ?? 1024 * 1024)) out.push(path);
      }
    }
  };
  walk(root);
  return out;
}

/** Copies `files` (absolute, under `root`) into `dir`, keeping their relative layout. */
export function copyCorpus(root: string, files: readonly string[], dir: string): Corpus {
  let bytes = 0;
  for (const file of files) {
    const target = join(dir, relative(root, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    bytes += statSync(file).size;
  }
  return { dir, files: files.length, bytes };
}

/** `count` files made by cycling through `sources`, 500 to a directory. */
export function synthesizeCorpus(sources: readonly string[], count: number, dir: string): Corpus {
  if (sources.length === 0) throw new Error('no source files to synthesize a corpus from');
  const contents = sources.map((path) => ({ path, text: readFileSync(path) }));
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const source = contents[i % contents.length];
    if (!source) continue;
    const ext = source.path.slice(source.path.lastIndexOf('.'));
    const sub = join(dir, `d${Math.floor(i / 500)}`);
    if (i % 500 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}${ext}`), source.text);
    bytes += source.text.length;
  }
  return { dir, files: count, bytes };
}
