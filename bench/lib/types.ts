/** The contract between `bench/run.ts` and the benchmark modules beside it. */

export interface BenchContext {
  /** Smaller file sets, for a fast check (`npm run bench:quick`). */
  readonly quick: boolean;
  /** A scratch directory for this run, removed afterwards. */
  readonly workDir: string;
  /** Records one measured figure; rows are printed together at the end. */
  report(row: BenchRow): void;
  log(message: string): void;
}

export interface BenchRow {
  readonly module: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** `value` must be at most (`max`) or at least (`min`) this. */
  readonly target?: { readonly max?: number; readonly min?: number };
  readonly note?: string;
}

export interface BenchModule {
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<void>;
}

export function meetsTarget(row: BenchRow): boolean | undefined {
  if (!row.target) return undefined;
  if (row.target.max !== undefined && row.value > row.target.max) return false;
  if (row.target.min !== undefined && row.value < row.target.min) return false;
  return true;
}
