/**
 * A small pool of worker threads fed with batches of file paths. The main thread hands out the next batch to
 * whichever worker finishes first, so a slow file holds up only its own worker.
 *
 * Memory: ast-grep frees a parsed tree only in a finalizer, which runs after a full garbage collection and a
 * turn of the event loop. V8 does not see the trees' native memory, so on its own it almost never collects,
 * and a long synchronous scan keeps every tree it parsed. Workers therefore collect after a budget of parsed
 * source bytes and yield to the event loop, which keeps each worker's memory bounded whatever the tree size.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { parentPort, Worker, workerData } from 'node:worker_threads';

/** Source bytes a worker parses between collections: trees take tens of times their source in native memory. */
export const GC_BUDGET_BYTES = 2 * 1024 * 1024;

interface BatchRequest {
  readonly batch: number;
  readonly paths: readonly string[];
}

interface BatchReply<R> {
  readonly batch: number;
  readonly results: R[];
}

interface FailureReply {
  readonly failure: string;
}

export interface PoolOptions<R> {
  /** The worker module (`.ts` under tsx, `.mjs` in a bundle); it calls `serveBatches`. */
  readonly worker: URL;
  readonly workerData: unknown;
  readonly paths: readonly string[];
  readonly workers: number;
  readonly batchSize: number;
  /**
   * The cost of each path (its size in bytes, say). When given, the heaviest paths are handed out first and a
   * batch closes early once it holds its share of the total, so no worker is left with a large file at the end.
   */
  readonly weights?: readonly number[];
  /**
   * The worker's handler, run on this thread as well (see `runPool`); `workers` then counts the threads
   * started besides this one.
   */
  readonly local?: (path: string) => { result: R; parsedBytes: number };
  /** Called on the main thread as each batch completes, in completion order. */
  readonly onBatch?: (paths: readonly string[], results: readonly R[]) => void;
}

/** The worker count to use by default: every core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** tsx's ESM registration API, resolved from this package (an eval'd worker resolves from the working directory). */
function tsxApiUrl(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = pkg.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx does not export ./esm/api');
  return pathToFileURL(join(dirname(pkgPath), entry)).href;
}

/**
 * Starts a worker. Node 20 does not pass tsx's loader hooks to worker threads, so a `.ts` worker is started
 * through a stub that registers tsx first; bundled `.mjs` workers start directly.
 */
function startWorker(url: URL, data: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData: data });
  const stub = `import(${JSON.stringify(tsxApiUrl())}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(stub, { eval: true, workerData: data });
}

/**
 * Runs `paths` through the pool and returns each path's result in input order. A worker that fails (an
 * exception in a handler, or a crash) rejects the whole run and stops the others.
 *
 * With `local`, this thread takes batches too, between turns of its event loop: it has the analyzers loaded
 * already, so it scans while the workers start, and one worker fewer needs starting. Each worker then keeps a
 * second batch queued, so it does not wait for this thread to pass it the next one.
 */
export async function runPool<R>(options: PoolOptions<R>): Promise<R[]> {
  const { batches, order } = planBatches(options);
  const results: R[][] = new Array<R[]>(batches.length);
  const local = options.local;
  const count = Math.max(local ? 0 : 1, Math.min(options.workers, batches.length));
  const queued = local ? 2 : 1;
  const workers: Worker[] = [];
  let next = 0;
  let failed = false;
  const finish = (batch: number, batchResults: R[]) => {
    results[batch] = batchResults;
    options.onBatch?.(batches[batch] as string[], batchResults);
  };
  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = startWorker(options.worker, options.workerData);
      workers.push(worker);
      let inFlight = 0;
      const feed = () => {
        if (next >= batches.length) {
          if (inFlight === 0) resolve();
          return;
        }
        const batch = next++;
        inFlight++;
        worker.postMessage({ batch, paths: batches[batch] as string[] } satisfies BatchRequest);
      };
      worker.on('message', (reply: BatchReply<R> | FailureReply) => {
        if ('failure' in reply) {
          failed = true;
          reject(new Error(reply.failure));
          return;
        }
        inFlight--;
        finish(reply.batch, reply.results);
        feed();
      });
      worker.on('error', (err) => {
        failed = true;
        reject(err);
      });
      worker.on('exit', (code) => {
        if (inFlight > 0 || next < batches.length || code !== 0) {
          failed = true;
          reject(new Error(`scan worker stopped with exit code ${code}`));
        }
      });
      for (let i = 0; i < queued; i++) feed();
    });
  const runLocal = async (handle: (path: string) => { result: R; parsedBytes: number }) => {
    const collect = collector();
    while (next < batches.length && !failed) {
      const batch = next++;
      const batchResults: R[] = [];
      for (const path of batches[batch] as string[]) {
        const { result, parsedBytes } = handle(path);
        batchResults.push(result);
        await collect(parsedBytes);
      }
      finish(batch, batchResults);
      // Lets the workers' replies in, so they are fed while this thread works.
      await nextTurn();
    }
  };
  try {
    await Promise.all([...Array.from({ length: count }, runWorker), ...(local ? [runLocal(local)] : [])]);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const done = results.flat();
  if (!order) return done;
  const inInputOrder = new Array<R>(done.length);
  order.forEach((input, i) => (inInputOrder[input] = done[i] as R));
  return inInputOrder;
}

/** Batches to hand out, and for weighted paths the input index of each path in batch order. */
export function planBatches<R>(options: PoolOptions<R>): { batches: string[][]; order?: number[] } {
  const { paths, batchSize, weights } = options;
  const batches: string[][] = [];
  if (!weights || weights.length !== paths.length) {
    for (let i = 0; i < paths.length; i += batchSize) batches.push(paths.slice(i, i + batchSize));
    return { batches };
  }
  const order = paths.map((_, i) => i).sort((a, b) => (weights[b] as number) - (weights[a] as number) || a - b);
  const total = weights.reduce((a, b) => a + b, 0);
  // Several batches per worker, so the ones handed out last are small whichever worker takes them.
  const share = total / (Math.max(1, options.workers) * 8);
  let batch: string[] = [];
  let weight = 0;
  for (const i of order) {
    batch.push(paths[i] as string);
    weight += weights[i] as number;
    if (batch.length >= batchSize || weight >= share) {
      batches.push(batch);
      batch = [];
      weight = 0;
    }
  }
  if (batch.length) batches.push(batch);
  return { batches, order };
}

/** The data the main thread gave this worker. */
export function poolWorkerData<T>(): T {
  return workerData as T;
}

/** `gc` when the engine lets it be exposed at run time; undefined otherwise (memory is then left to V8). */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** Counts parsed bytes and, past the budget, collects and yields a turn so the trees' finalizers free them. */
function collector(): (parsedBytes: number) => Promise<void> {
  const gc = exposeGc();
  let sinceCollection = 0;
  return async (parsedBytes) => {
    sinceCollection += parsedBytes;
    if (!gc || sinceCollection < GC_BUDGET_BYTES) return;
    gc();
    sinceCollection = 0;
    // The trees' finalizers run on the next turn of the event loop.
    await nextTurn();
  };
}

/**
 * The worker side: answers each batch with one result per path. `handle` returns the result and the number of
 * source bytes it parsed, which drives the collections that free native trees.
 */
export function serveBatches<R>(handle: (path: string) => { result: R; parsedBytes: number }): void {
  const port = parentPort;
  if (!port) throw new Error('serveBatches runs in a worker thread');
  const collect = collector();
  port.on('message', (request: BatchRequest) => {
    void (async () => {
      try {
        const results: R[] = [];
        for (const path of request.paths) {
          const { result, parsedBytes } = handle(path);
          results.push(result);
          await collect(parsedBytes);
        }
        port.postMessage({ batch: request.batch, results } satisfies BatchReply<R>);
      } catch (err) {
        port.postMessage({ failure: (err as Error).stack ?? String(err) } satisfies FailureReply);
      }
    })();
  });
}
