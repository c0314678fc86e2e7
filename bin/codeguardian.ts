#!/usr/bin/env tsx
/**
 * The `codeguardian` command. Runs the prebuilt bundle (`npm run build:cli`, dist/cli/) when it is newer than
 * every source it was built from, which saves compiling the TypeScript at start-up; the sources otherwise.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const bundleDir = join(root, 'dist', 'cli');

function freshBundle(): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(bundleDir, 'manifest.json'), 'utf8')) as { builtAt: number; inputs: string[] };
    if (manifest.inputs.some((input) => statSync(join(root, input)).mtimeMs > manifest.builtAt)) return undefined;
    return join(bundleDir, 'codeguardian.mjs');
  } catch {
    // No bundle, or an input was removed since it was built.
    return undefined;
  }
}

const bundle = freshBundle();
await import(bundle ? pathToFileURL(bundle).href : './run-cli.ts');
