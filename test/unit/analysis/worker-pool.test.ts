import { describe, expect, it } from '@jest/globals';
import { planBatches, runPool } from '../../../shared/analysis/worker-pool.ts';

const worker = new URL('file:///unused.mjs');
const base = { worker, workerData: undefined, workers: 2, batchSize: 4 };

describe('planBatches', () => {
  it('cuts unweighted paths into fixed batches in input order', () => {
    const plan = planBatches({ ...base, paths: ['a', 'b', 'c', 'd', 'e'] });
    expect(plan.batches).toEqual([['a', 'b', 'c', 'd'], ['e']]);
    expect(plan.order).toBeUndefined();
  });

  it('hands out the heaviest paths first and closes a batch once it holds its share', () => {
    const paths = ['small1', 'huge', 'small2', 'mid', 'small3', 'small4', 'small5'];
    const weights = [10, 1600, 10, 200, 10, 10, 10];
    const plan = planBatches({ ...base, paths, weights });
    // total 1850, share 1850 / 16 ≈ 116: the huge and the mid file each fill a batch alone.
    expect(plan.batches).toEqual([['huge'], ['mid'], ['small1', 'small2', 'small3', 'small4'], ['small5']]);
    expect(plan.order?.map((i) => paths[i])).toEqual(plan.batches.flat());
    expect([...(plan.order ?? [])].sort((a, b) => a - b)).toEqual(paths.map((_, i) => i));
  });

  it('falls back to input order when the weights do not match the paths', () => {
    const plan = planBatches({ ...base, paths: ['a', 'b'], weights: [1] });
    expect(plan.batches).toEqual([['a', 'b']]);
    expect(plan.order).toBeUndefined();
  });
});

describe('runPool on this thread', () => {
  it('runs every batch through the local handler and returns results in input order', async () => {
    const paths = ['a', 'bbbb', 'cc', 'ddd'];
    const seen: string[][] = [];
    const results = await runPool<string>({
      ...base,
      workers: 0,
      paths,
      weights: paths.map((p) => p.length),
      local: (path) => ({ result: path.toUpperCase(), parsedBytes: 0 }),
      onBatch: (batch) => seen.push([...batch]),
    });
    expect(results).toEqual(['A', 'BBBB', 'CC', 'DDD']);
    expect(seen.flat()).toEqual(['bbbb', 'ddd', 'cc', 'a']);
  });

  it('rejects when the local handler throws', async () => {
    const failing = runPool<string>({
      ...base,
      workers: 0,
      paths: ['x'],
      local: () => {
        throw new Error('unreadable');
      },
    });
    await expect(failing).rejects.toThrow('unreadable');
  });
});
