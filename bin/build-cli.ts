/**
 * `npm run build:cli`: bundles the `codeguardian` command into dist/cli/ so it starts without compiling
 * TypeScript: codeguardian.mjs, the scan worker beside it, the rule packs with a compiled snapshot and the taint
 * specs. bin/codeguardian.mjs runs the bundle while it is newer than every source file it was built from.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { parse as parseYaml } from 'yaml';
import { loadRuleSet, writeRuleSnapshot } from '../shared/analysis/rule-pack.ts';
import { validateTaintSpec } from '../shared/analysis/taint/spec.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_DIST = join(ROOT, 'dist', 'cli');
/** Written last: lists the sources the bundle was built from and when. */
export const CLI_MANIFEST = 'manifest.json';

export interface CliManifest {
  readonly builtAt: number;
  /** package.json's version, built into the bundle: the launcher compares it instead of package.json's age. */
  readonly version: string;
  /** Repository-relative inputs of the bundle, the rule packs and the taint specs. */
  readonly inputs: readonly string[];
}

/** ESM in a `.mjs` file still meets CommonJS dependencies that call `require`: give them one. */
const BANNER = "import { createRequire as __cgCreateRequire } from 'node:module'; const require = __cgCreateRequire(import.meta.url);";

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    return entry.isDirectory() ? [path, ...filesUnder(root, path)] : [path];
  });
}

/**
 * `extraEntries` (output name → repository-relative source) bundles further programs beside the command, sharing
 * its chunks, rules and specs: the scanner benchmark measures its workers this way, as users run the scanner.
 */
export function buildCli(outDir: string = CLI_DIST, extraEntries: Readonly<Record<string, string>> = {}): CliManifest {
  const builtAt = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const result = buildSync({
    entryPoints: {
      codeguardian: join(ROOT, 'bin/run-cli.ts'),
      'scan-worker': join(ROOT, 'shared/analysis/scan-worker.ts'),
      ...Object.fromEntries(Object.entries(extraEntries).map(([name, source]) => [name, join(ROOT, source)])),
    },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    // Chunks sit beside the entries: modules find the rules, specs and worker relative to their own URL.
    chunkNames: '[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Native parsers and their grammars load binaries from their own packages, found in node_modules.
    external: ['@ast-grep/*'],
    define: { CODEGUARDIAN_VERSION: JSON.stringify(version) },
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'warning',
  });
  const analysis = join(ROOT, 'shared', 'analysis');
  cpSync(join(analysis, 'rules'), join(outDir, 'rules'), { recursive: true });
  // Taint specs as JSON: validated here, and parsed without the YAML library at start-up.
  mkdirSync(join(outDir, 'specs'));
  for (const name of readdirSync(join(analysis, 'taint', 'specs')).filter((n) => n.endsWith('.yml'))) {
    const language = name.slice(0, -'.yml'.length);
    const spec = validateTaintSpec(parseYaml(readFileSync(join(analysis, 'taint', 'specs', name), 'utf8')), name);
    writeFileSync(join(outDir, 'specs', `${language}.json`), JSON.stringify(spec));
  }
  writeRuleSnapshot(loadRuleSet(join(outDir, 'rules')), join(outDir, 'rules'));
  // Data folders count as inputs themselves too: adding or removing a pack changes their modification time.
  // package.json is not an input: of it the bundle holds only the version, and installing a dependency or adding
  // a script (which touch it) must not send every run back to compiling TypeScript.
  const data = ['shared/analysis/rules', 'shared/analysis/taint/specs'].flatMap((dir) => [dir, ...filesUnder(ROOT, dir)]);
  const inputs = [...Object.keys(result.metafile.inputs), ...data];
  const manifest: CliManifest = { builtAt, version, inputs: inputs.map((p) => p.replace(/\\/g, '/')) };
  writeFileSync(join(outDir, CLI_MANIFEST), JSON.stringify(manifest));
  return manifest;
}

/** What bin/codeguardian.mjs checks before it runs the bundle: built for this version, and newer than its inputs. */
export function cliBundleFresh(outDir: string = CLI_DIST): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(outDir, CLI_MANIFEST), 'utf8')) as CliManifest;
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    return manifest.version === version && manifest.inputs.every((input) => statSync(join(ROOT, input)).mtimeMs <= manifest.builtAt);
  } catch {
    return false;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const started = Date.now();
  const manifest = buildCli();
  console.log(`dist/cli: ${manifest.inputs.length} inputs bundled in ${Date.now() - started} ms`);
}
