import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleDirFor, bundleHandler, DIST_DIR, REPO_ROOT } from '../../esbuild.config.ts';

const RULES = join(REPO_ROOT, 'shared', 'analysis', 'rules');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('bundleHandler', () => {
  test('one ESM bundle per entry under dist/<entry>, with the require banner and a source map', () => {
    const bundle = bundleHandler('lambdas/http/get-health.ts', { force: true });
    expect(bundle.outDir).toBe(join(DIST_DIR, 'lambdas', 'http', 'get-health'));
    expect(bundle.outDir).toBe(bundleDirFor('lambdas/http/get-health.ts'));
    const code = readFileSync(join(bundle.outDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __cgCreateRequire } from 'node:module';")).toBe(true);
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    expect(JSON.parse(readFileSync(join(bundle.outDir, 'index.mjs.map'), 'utf8')).version).toBe(3);
    expect(bundle.bytes).toBe(Buffer.byteLength(code));
    expect(bundle.copiedRules).toBe(false);
  });

  test('the AWS SDK stays external; the rest is bundled', () => {
    const code = readFileSync(join(bundleHandler('lambdas/http/get-health.ts').outDir, 'index.mjs'), 'utf8');
    const bareImports = [...code.matchAll(/from\s*"([^".][^"]*)"/g)].map((m) => m[1]!);
    expect(bareImports).toContain('@aws-sdk/client-dynamodb');
    expect(bareImports.filter((s) => !/^(@aws-sdk\/|@smithy\/|node:)/.test(s))).toEqual([]);
    // Bundled, not imported: Powertools and valibot code is inside the file.
    expect(bareImports.some((s) => s.startsWith('@aws-lambda-powertools') || s === 'valibot' || s === '@middy/core')).toBe(false);
  });

  test('a bundle that loads rule packs carries them and its native parser packages, and runs', () => {
    const bundle = bundleHandler('test/infra/fixtures/rules-entry.ts', { force: true });
    expect(bundle.copiedRules).toBe(true);
    expect(files(join(bundle.outDir, 'rules'))).toEqual(files(RULES));
    expect(bundle.nativePackages).toEqual(expect.arrayContaining(['@ast-grep/napi', '@ast-grep/setup-lang']));
    expect(existsSync(join(bundle.outDir, 'node_modules', '@ast-grep', 'napi', 'package.json'))).toBe(true);
    const count = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(bundle.outDir, 'index.mjs'))}); console.log(await m.handler());`],
      { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    expect(Number(count.trim())).toBeGreaterThan(0);
  });

  test('a bundle that tracks taint carries the taint specs and finds a flow', () => {
    const bundle = bundleHandler('test/infra/fixtures/taint-entry.ts', { force: true });
    expect(files(join(bundle.outDir, 'specs'))).toEqual(files(join(REPO_ROOT, 'shared', 'analysis', 'taint', 'specs')));
    const kinds = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(bundle.outDir, 'index.mjs'))}); console.log(JSON.stringify(await m.handler()));`],
      { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    expect(JSON.parse(kinds.trim())).toContain('taint');
  });

  test('a missing entry fails with its name, and nothing is written', () => {
    expect(() => bundleHandler('lambdas/http/no-such-handler.ts')).toThrow(
      'Handler entry lambdas/http/no-such-handler.ts does not exist (declared in shared/platform/declarations.ts)',
    );
    expect(existsSync(bundleDirFor('lambdas/http/no-such-handler.ts'))).toBe(false);
  });

  test('an entry outside the repository is refused', () => {
    expect(() => bundleHandler('../outside.ts')).toThrow('Handler entry ../outside.ts is outside the repository');
  });
});
