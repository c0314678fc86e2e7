import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './config.ts';

export type LambdaHandler = (event: unknown, context: Context) => unknown;

export interface InvokeOptions {
  readonly timeoutSeconds: number;
  readonly memoryMb?: number;
}

export class HandlerNotFoundError extends Error {
  readonly code = 'HANDLER_NOT_FOUND';
}

export class HandlerTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';
}

/**
 * Loads handler entries (paths from the repository root, each exporting `handler`) by dynamic import,
 * once per entry, and invokes them with a Lambda-like context and the declared timeout. Under `tsx` the
 * TypeScript sources load as they are, so the same code runs here and in the bundles.
 */
export class HandlerRuntime {
  private readonly cache = new Map<string, Promise<LambdaHandler>>();

  constructor(
    private readonly root: string,
    /** Entry → file replacements, used by tests to run fixtures in place of declared handlers. */
    private readonly overrides: Readonly<Record<string, string>> = {},
  ) {}

  load(entry: string): Promise<LambdaHandler> {
    let loaded = this.cache.get(entry);
    if (!loaded) {
      loaded = this.importHandler(entry);
      this.cache.set(entry, loaded);
      loaded.catch(() => this.cache.delete(entry));
    }
    return loaded;
  }

  private async importHandler(entry: string): Promise<LambdaHandler> {
    const target = this.overrides[entry] ?? entry;
    const file = isAbsolute(target) ? target : resolve(this.root, target);
    if (!existsSync(file)) throw new HandlerNotFoundError(`Handler ${entry} does not exist (${file})`);
    const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
    if (typeof mod.handler !== 'function') throw new HandlerNotFoundError(`${entry} does not export a handler function`);
    return mod.handler as LambdaHandler;
  }

  async invoke(entry: string, event: unknown, options: InvokeOptions): Promise<unknown> {
    const handler = await this.load(entry);
    const context = lambdaContext(entry, options);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HandlerTimeoutError(`${entry} timed out after ${options.timeoutSeconds} seconds`)),
        options.timeoutSeconds * 1000,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(() => handler(event, context)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function functionName(entry: string): string {
  return `codeguardian-local-${basename(entry).replace(/\.[cm]?[jt]s$/, '')}`;
}

export function lambdaContext(entry: string, options: InvokeOptions): Context {
  const name = functionName(entry);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const unsupported = (): never => {
    throw new Error('Callback-style Lambda context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${new Date().toISOString().slice(0, 10)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
