/**
 * Builds one ESM bundle per handler entry of shared/platform/declarations.ts into dist/<entry>/index.mjs.
 * `npm run build` bundles them all and prints each size; the CDK app (lib/constructs/app-function.ts) calls
 * `bundleHandler` during synth, so the stacks deploy exactly these bundles, built locally without Docker.
 *
 * - The AWS SDK v3 (`@aws-sdk/*`, `@smithy/*`) stays external: the nodejs22.x runtime ships it, so leaving it
 *   out keeps bundles small and cold starts short. Everything else is bundled and tree-shaken.
 * - Rule packs (shared/analysis/rules/**) are read from disk at `new URL('./rules/', import.meta.url)`, so for
 *   every bundle that includes the rule loader they are copied unchanged next to index.mjs (dist/<entry>/rules),
 *   keeping them editable data files rather than code. The taint specs (shared/analysis/taint/specs/**) are
 *   read the same way at `./specs/` and copied likewise.
 * - @ast-grep/napi and its language packages load native parsers: they stay external and are copied into the
 *   bundle's node_modules with their prebuilt binaries.
 */
import { buildSync, type Metafile } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allHandlerEntries } from './shared/platform/declarations.ts';

export const REPO_ROOT = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(REPO_ROOT, 'dist');
const RULES_SOURCE = join(REPO_ROOT, 'shared', 'analysis', 'rules');
const RULE_LOADER = 'shared/analysis/rule-pack.ts';
const TAINT_SPECS_SOURCE = join(REPO_ROOT, 'shared', 'analysis', 'taint', 'specs');
const TAINT_SPEC_LOADER = 'shared/analysis/taint/spec.ts';

/** Packages left out of the bundles: provided by the Lambda runtime. */
export const RUNTIME_PROVIDED = ['@aws-sdk/*', '@smithy/*'];
/** Packages with native binaries: kept external and copied into the bundle's node_modules. */
const NATIVE_PACKAGES = ['@ast-grep/napi', '@ast-grep/lang-python', '@ast-grep/lang-java', '@ast-grep/lang-go', '@ast-grep/setup-lang'];
/** The Lambda functions run on Graviton: the parser binary for that platform. */
const NATIVE_LAMBDA_BINARY = '@ast-grep/napi-linux-arm64-gnu';

/** ESM in a `.mjs` file still meets CommonJS dependencies that call `require`: give them one. */
const BANNER = "import { createRequire as __cgCreateRequire } from 'node:module'; const require = __cgCreateRequire(import.meta.url);";

export interface BundleResult {
  readonly entry: string;
  /** Folder deployed as the function's code: index.mjs, its source map and any copied data. */
  readonly outDir: string;
  /** Size of index.mjs in bytes. */
  readonly bytes: number;
  readonly copiedRules: boolean;
  readonly nativePackages: readonly string[];
  readonly warnings: readonly string[];
}

/** dist/<entry without extension>, e.g. dist/lambdas/http/get-health for lambdas/http/get-health.ts. */
export function bundleDirFor(entry: string): string {
  return join(DIST_DIR, entry.replace(/\.[cm]?[jt]s$/, ''));
}

function assertEntry(entry: string): string {
  const file = resolve(REPO_ROOT, entry);
  if (relative(REPO_ROOT, file).startsWith('..')) {
    throw new Error(`Handler entry ${entry} is outside the repository`);
  }
  if (!existsSync(file)) {
    throw new Error(`Handler entry ${entry} does not exist (declared in shared/platform/declarations.ts)`);
  }
  return file;
}

function usedNativePackages(metafile: Metafile): string[] {
  const imported = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imp of input.imports) {
      if (!imp.external) continue;
      const match = NATIVE_PACKAGES.find((name) => imp.path === name || imp.path.startsWith(`${name}/`));
      if (match) imported.add(match);
    }
  }
  if (imported.size > 0) imported.add('@ast-grep/setup-lang');
  return [...imported].sort();
}

function copyPackage(name: string, outDir: string): boolean {
  const source = join(REPO_ROOT, 'node_modules', name);
  if (!existsSync(source)) return false;
  cpSync(source, join(outDir, 'node_modules', name), { recursive: true, dereference: true });
  return true;
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'latest';
  }
}

const built = new Map<string, BundleResult>();

/**
 * Bundles one handler entry into dist/<entry>/ and returns where. Memoised per process, so an app with many
 * stacks builds each bundle once. Throws naming the entry when it does not exist.
 */
export function bundleHandler(entry: string, options: { readonly force?: boolean } = {}): BundleResult {
  const cached = built.get(entry);
  if (cached && !options.force) return cached;
  const file = assertEntry(entry);
  const outDir = bundleDirFor(entry);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const result = buildSync({
    entryPoints: [file],
    outfile: join(outDir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    treeShaking: true,
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    external: [...RUNTIME_PROVIDED, ...NATIVE_PACKAGES],
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'silent',
  });

  const warnings = result.warnings.map((w) => w.text);
  const inputs = Object.keys(result.metafile.inputs);
  const copiedRules = inputs.includes(RULE_LOADER) && existsSync(RULES_SOURCE);
  if (copiedRules) cpSync(RULES_SOURCE, join(outDir, 'rules'), { recursive: true });
  if (inputs.includes(TAINT_SPEC_LOADER) && existsSync(TAINT_SPECS_SOURCE)) cpSync(TAINT_SPECS_SOURCE, join(outDir, 'specs'), { recursive: true });

  const nativePackages = usedNativePackages(result.metafile);
  for (const name of nativePackages) {
    if (!copyPackage(name, outDir)) warnings.push(`${name} is not installed; ${entry} cannot load it`);
  }
  if (nativePackages.includes('@ast-grep/napi') && !copyPackage(NATIVE_LAMBDA_BINARY, outDir)) {
    warnings.push(
      `${NATIVE_LAMBDA_BINARY} is not installed, so ${entry} has no ARM64 parser binary: run ` +
        `\`npm install --no-save --force ${NATIVE_LAMBDA_BINARY}@${packageVersion('@ast-grep/napi')}\` before deploying`,
    );
  }

  const bundle: BundleResult = {
    entry,
    outDir,
    bytes: statSync(join(outDir, 'index.mjs')).size,
    copiedRules,
    nativePackages,
    warnings,
  };
  built.set(entry, bundle);
  return bundle;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    total += stat.isDirectory() ? folderBytes(path) : stat.size;
  }
  return total;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Bundles every declared entry; prints one line per bundle. Returns the number of entries that failed. */
export function bundleAll(entries: readonly string[] = allHandlerEntries()): number {
  let failed = 0;
  const width = Math.max(...entries.map((e) => e.length));
  for (const entry of entries) {
    try {
      const bundle = bundleHandler(entry, { force: true });
      const extras = [
        bundle.copiedRules ? 'rules' : '',
        bundle.nativePackages.length > 0 ? `native: ${bundle.nativePackages.join(', ')}` : '',
      ].filter(Boolean);
      console.log(
        `${entry.padEnd(width)}  index.mjs ${kib(bundle.bytes).padStart(10)}  folder ${kib(folderBytes(bundle.outDir)).padStart(10)}` +
          (extras.length > 0 ? `  (${extras.join('; ')})` : ''),
      );
      for (const warning of bundle.warnings) console.warn(`  warning: ${warning}`);
    } catch (error) {
      failed += 1;
      console.error(`${entry.padEnd(width)}  FAILED: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return failed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const started = Date.now();
  const entries = allHandlerEntries();
  const failed = bundleAll(entries);
  console.log(`${entries.length - failed}/${entries.length} bundles in ${relative(process.cwd(), DIST_DIR) || '.'} (${Date.now() - started} ms)`);
  if (failed > 0) process.exitCode = 1;
}
