import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import type { Services } from '../../lib/local/stack.ts';
import { routes, websocket, type RouteDecl } from '../../shared/platform/declarations.ts';
import { eventually, FIXTURE_HANDLERS, startTestServices } from './support/local-services.ts';

const testRoutes: RouteDecl[] = [
  ...routes,
  { method: 'POST', path: '/api/echo/{id}', access: 'public', entry: 'test/echo', summary: 'echo' },
  { method: 'GET', path: '/api/echo/fixed', access: 'public', entry: 'test/echo', summary: 'echo' },
  { method: 'GET', path: '/api/missing', access: 'public', entry: 'lambdas/http/does-not-exist.ts', summary: 'missing' },
];

describe('local gateway', () => {
  let services: Services;
  let base: string;

  beforeAll(async () => {
    services = await startTestServices({
      routes: testRoutes,
      handlerOverrides: { 'test/echo': `${FIXTURE_HANDLERS}/echo-route.ts` },
    });
    base = `http://127.0.0.1:${services.apiPort}`;
  });
  afterAll(async () => {
    await services?.stop();
  });

  it('serves GET /api/health through the real handler, which reaches DynamoDB Local and back', async () => {
    const res = await fetch(`${base}/api/health`);
    const body = (await res.json()) as { status: string; services: Record<string, string> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('healthy');
    expect(body.services.table).toBe('up');
    expect(body.services.bucket).toBe('up');
  });

  it('builds a payload-format-2.0 event and writes the structured result', async () => {
    const res = await fetch(`${base}/api/echo/a%20b?x=1&x=2&y=z`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'Yes', cookie: 'sid=1; theme=dark' },
      body: '{"hello":"world"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-route-key')).toBe('POST /api/echo/{id}');
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const event = (await res.json()) as Record<string, unknown> & { headers: Record<string, string> };
    expect(event).toMatchObject({
      routeKey: 'POST /api/echo/{id}',
      rawPath: '/api/echo/a%20b',
      rawQueryString: 'x=1&x=2&y=z',
      pathParameters: { id: 'a b' },
      queryStringParameters: { x: '1,2', y: 'z' },
      cookies: ['sid=1', 'theme=dark'],
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      method: 'POST',
      sourceIp: '127.0.0.1',
    });
    expect(event.headers['x-custom']).toBe('Yes');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('prefers a literal route over a parameter and base64-encodes binary bodies', async () => {
    const fixed = (await (await fetch(`${base}/api/echo/fixed`)).json()) as { routeKey: string };
    expect(fixed.routeKey).toBe('GET /api/echo/fixed');
    const bytes = Buffer.from([0, 255, 1, 2]);
    const res = await fetch(`${base}/api/echo/bin`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const event = (await res.json()) as { body: string; isBase64Encoded: boolean };
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body, 'base64')).toEqual(bytes);
  });

  it('answers unknown routes and wrong methods with 404 NOT_FOUND', async () => {
    for (const [method, path] of [['GET', '/api/nope'], ['DELETE', '/api/health'], ['GET', '/elsewhere']] as const) {
      const res = await fetch(`${base}${path}`, { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: expect.any(String), code: 'NOT_FOUND' });
    }
  });

  it('answers a declared route whose handler file is missing with a clear error', async () => {
    const res = await fetch(`${base}/api/missing`);
    expect(res.status).toBe(501);
    expect(await res.json()).toEqual({ error: expect.stringContaining('does-not-exist.ts'), code: 'NOT_IMPLEMENTED' });
  });

  it('refuses a WebSocket upgrade without a token with 401, never accepting the socket', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${services.apiPort}/ws`);
      ws.on('open', () => reject(new Error('socket was accepted')));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    expect(services.gateway.connectionCount).toBe(0);
  });

  it('refuses an upgrade with a bad token with 401 and an unknown WebSocket path with 404', async () => {
    const statusOf = (url: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('open', () => reject(new Error('socket was accepted')));
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
    expect(await statusOf(`ws://127.0.0.1:${services.apiPort}/ws?token=not-a-jwt`)).toBe(401);
    expect(await statusOf(`ws://127.0.0.1:${services.apiPort}/other`)).toBe(404);
  });
});

describe('@connections management API', () => {
  let services: Services;

  beforeAll(async () => {
    services = await startTestServices({
      handlerOverrides: { [websocket.connect.entry]: `${FIXTURE_HANDLERS}/accept-connection.ts` },
    });
  });
  afterAll(async () => {
    await services?.stop();
  });

  it('delivers a post from the real management client to the socket, then answers 410 Gone after close', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${services.apiPort}/ws`);
    const received: string[] = [];
    ws.on('message', (data) => received.push(String(data)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(services.gateway.connectionCount).toBe(1);
    const connectionId = [...(services.gateway as unknown as { connections: Map<string, unknown> }).connections.keys()][0] as string;

    const client = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_ENDPOINT });
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"event":"scan:started"}') }));
      await eventually(() => (received.length > 0 ? true : undefined), 5000);
      expect(received).toEqual(['{"event":"scan:started"}']);
      const info = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      expect(info.ConnectedAt).toBeInstanceOf(Date);
      expect(info.Identity?.SourceIp).toBe('127.0.0.1');

      ws.close();
      await eventually(() => (services.gateway.connectionCount === 0 ? true : undefined), 5000);
      await expect(
        client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('late') })),
      ).rejects.toBeInstanceOf(GoneException);
      await expect(client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
    } finally {
      client.destroy();
    }
  });

  it('closes the socket on DeleteConnection', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${services.apiPort}/ws`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const connectionId = [...(services.gateway as unknown as { connections: Map<string, unknown> }).connections.keys()][0] as string;
    const client = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_ENDPOINT });
    try {
      await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      expect(await closed).toBe(1000);
    } finally {
      client.destroy();
    }
  });
});
