/**
 * `npm run bench [-- --only name[,name]] [--quick]`: runs every benchmark module in this folder (each
 * `bench/*.ts` but this file, default-exporting a BenchModule) and prints the figures with their targets.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { meetsTarget, type BenchModule, type BenchRow } from './lib/types.ts';

function isBenchModule(value: unknown): value is BenchModule {
  const candidate = value as Partial<BenchModule> | undefined;
  return typeof candidate?.name === 'string' && typeof candidate.run === 'function';
}

async function loadModules(): Promise<BenchModule[]> {
  const dir = import.meta.dirname;
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'run.ts').sort();
  const modules: BenchModule[] = [];
  for (const file of files) {
    const loaded = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown };
    if (!isBenchModule(loaded.default)) throw new Error(`bench/${file} does not default-export a benchmark module`);
    modules.push(loaded.default);
  }
  return modules;
}

function format(row: BenchRow): string {
  const value = row.unit === 'x' ? `${row.value.toFixed(2)}x` : `${row.value.toFixed(row.value < 100 ? 1 : 0)} ${row.unit}`;
  const pass = meetsTarget(row);
  const target = row.target
    ? `${row.target.max !== undefined ? `≤ ${row.target.max}` : `≥ ${row.target.min}`}${row.unit === 'x' ? 'x' : ` ${row.unit}`} ${pass ? 'met' : 'MISSED'}`
    : '';
  return `${row.metric.padEnd(48)} ${value.padStart(14)}  ${target.padEnd(18)} ${row.note ?? ''}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } },
  });
  const modules = await loadModules();
  if (values.list) {
    for (const m of modules) console.log(`${m.name.padEnd(16)} ${m.description}`);
    return 0;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((name) => !modules.some((m) => m.name === name)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available: ${modules.map((m) => m.name).join(', ')}`);
    return 2;
  }
  const selected = only ? modules.filter((m) => only.includes(m.name)) : modules;
  const rows: BenchRow[] = [];
  let failed = false;
  for (const bench of selected) {
    const workDir = mkdtempSync(join(tmpdir(), `codeguardian-bench-${bench.name}-`));
    console.log(`\n# ${bench.name}${values.quick ? ' (quick)' : ''}: ${bench.description}`);
    try {
      await bench.run({ quick: values.quick, workDir, report: (row) => rows.push(row), log: (m) => console.log(`  ${m}`) });
    } catch (err) {
      failed = true;
      console.error(`  ${bench.name} failed: ${(err as Error).message}`);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  console.log(`\n${'metric'.padEnd(48)} ${'value'.padStart(14)}  ${'target'.padEnd(18)} note`);
  for (const row of rows) console.log(format(row));
  return failed ? 1 : 0;
}

process.exitCode = await main();
