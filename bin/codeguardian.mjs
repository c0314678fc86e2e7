#!/usr/bin/env node
/**
 * The `codeguardian` command, in plain JavaScript so it starts with Node alone. Runs the prebuilt bundle
 * (`npm run build:cli`, dist/cli/) while it is newer than every source it was built from and of the package's
 * version; otherwise registers tsx and runs the TypeScript sources (bin/run-cli.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const bundleDir = join(root, 'dist', 'cli');

function freshBundle() {
  try {
    const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8'));
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    if (manifest.version !== version) return undefined;
    if (manifest.inputs.some((input) => statSync(join(root, input)).mtimeMs > manifest.builtAt)) return undefined;
    return join(bundleDir, 'codeguardian.mjs');
  } catch {
    // No bundle, or an input was removed since it was built.
    return undefined;
  }
}

const bundle = freshBundle();
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./run-cli.ts');
}
