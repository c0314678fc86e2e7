import { randomBytes } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEventV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { HandlerDecl, RouteDecl, WebSocketDecl } from '../../shared/platform/declarations.ts';
import { LOCAL_ACCOUNT } from './config.ts';
import { HandlerNotFoundError, HandlerTimeoutError, type HandlerRuntime } from './handlers.ts';

/** API Gateway's payload limit. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const HTTP_TIMEOUT_SECONDS = 29;
const API_ID = 'local';

export interface GatewayOptions {
  readonly routes: readonly RouteDecl[];
  readonly websocket: WebSocketDecl;
  readonly runtime: HandlerRuntime;
  /** Origin allowed by CORS preflight answers. @default '*' */
  readonly corsOrigin?: string;
  readonly log?: (line: string) => void;
}

interface CompiledRoute {
  readonly decl: RouteDecl;
  readonly routeKey: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

interface Connection {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** `/api/repositories/{id}` → a RegExp with one group per parameter (`{proxy+}` matches several segments). */
export function compileRoute(decl: RouteDecl): CompiledRoute {
  const params: string[] = [];
  const source = decl.path
    .split('/')
    .map((segment) => {
      const match = /^\{([A-Za-z0-9_]+)(\+)?\}$/.exec(segment);
      if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(match[1] as string);
      return match[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { decl, routeKey: `${decl.method} ${decl.path}`, pattern: new RegExp(`^${source}$`), params };
}

/** The most specific route for a method and path: literal segments win over parameters, as in API Gateway. */
export function matchRoute(
  compiled: readonly CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
  const candidates = compiled
    .filter((r) => r.decl.method === method)
    .map((route) => ({ route, match: route.pattern.exec(path) }))
    .filter((c): c is { route: CompiledRoute; match: RegExpExecArray } => c.match !== null)
    .sort((a, b) => a.route.params.length - b.route.params.length);
  const best = candidates[0];
  if (!best) return undefined;
  const pathParameters: Record<string, string> = {};
  best.route.params.forEach((name, i) => {
    pathParameters[name] = decodeURIComponent(best.match[i + 1] as string);
  });
  return { route: best.route, pathParameters };
}

function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript|graphql)|[^;]*\+(json|xml))/i.test(contentType);
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

function queryParameters(search: URLSearchParams): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const key of new Set(search.keys())) params[key] = search.getAll(key).join(',');
  return Object.keys(params).length > 0 ? params : undefined;
}

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

function sourceIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

function requestId(): string {
  return randomBytes(12).toString('base64url');
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112 §6.3).
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

class PayloadTooLargeError extends Error {}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

interface StructuredResult {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** Writes a Lambda result the way API Gateway's payload format 2.0 interprets it. */
export function writeLambdaResult(res: ServerResponse, result: unknown): void {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const r = result as StructuredResult;
    const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = String(value);
    if (r.cookies && r.cookies.length > 0) headers['set-cookie'] = r.cookies;
    headers['content-length'] = String(body.length);
    res.writeHead(r.statusCode ?? 200, headers);
    res.end(body);
    return;
  }
  // Without a statusCode API Gateway answers 200 with the result as a JSON body.
  const text = result === undefined || result === null ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * One node:http server standing in for the HTTP API (`/api/...` routes), the WebSocket API (upgrade on the
 * declared path) and its `@connections` management API. Every route and WebSocket event reaches the same
 * handler entries the stacks deploy, as API Gateway shaped events.
 */
export class LocalGateway {
  private readonly compiled: readonly CompiledRoute[];
  private readonly connections = new Map<string, Connection>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly server: Server;
  private readonly log: (line: string) => void;
  /** WebSocket route invocations still running, awaited on close so none outlives the stack. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: GatewayOptions) {
    this.compiled = options.routes.map(compileRoute);
    this.log = options.log ?? (() => undefined);
    this.server = createServer((req, res) => {
      this.handleRequest(req, res).catch((error: unknown) => {
        this.log(`gateway error: ${error instanceof Error ? error.message : String(error)}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      this.handleUpgrade(req, socket, head).catch((error: unknown) => {
        this.log(`websocket error: ${error instanceof Error ? error.message : String(error)}`);
        refuseUpgrade(socket, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
      });
    });
  }

  /** Listens on 127.0.0.1; port 0 picks a free one. Resolves to the bound port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    const closing = [...this.connections.values()].map(
      (connection) => new Promise<void>((resolve) => {
        connection.socket.once('close', () => resolve());
        connection.socket.terminate();
      }),
    );
    await Promise.all(closing);
    await Promise.allSettled([...this.inFlight]);
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const management = /^(?:\/[^/]+)*\/@connections\/([^/]+)$/.exec(url.pathname);
    if (management) {
      await this.handleManagement(req, res, method, decodeURIComponent(management[1] as string));
      return;
    }
    if (method === 'OPTIONS' && this.compiled.some((r) => r.pattern.test(url.pathname))) {
      res.writeHead(204, {
        'access-control-allow-origin': this.options.corsOrigin ?? '*',
        'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
        'access-control-allow-headers': 'authorization,content-type,x-request-id',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    const matched = matchRoute(this.compiled, method, url.pathname);
    if (!matched) {
      sendJson(res, 404, { error: `No route for ${method} ${url.pathname}`, code: 'NOT_FOUND' });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        sendJson(res, 413, { error: 'Request body exceeds 10 MB', code: 'PAYLOAD_TOO_LARGE' });
        return;
      }
      throw error;
    }
    const event = this.httpEvent(req, url, matched.route.routeKey, matched.pathParameters, body);
    const { decl } = matched.route;
    const started = Date.now();
    try {
      const result = await this.options.runtime.invoke(decl.entry, event, {
        timeoutSeconds: decl.timeoutSeconds ?? HTTP_TIMEOUT_SECONDS,
        memoryMb: decl.memoryMb,
      });
      writeLambdaResult(res, result);
    } catch (error) {
      this.log(`${method} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof HandlerNotFoundError) sendJson(res, 501, { error: error.message, code: 'NOT_IMPLEMENTED' });
      else if (error instanceof HandlerTimeoutError) sendJson(res, 503, { error: 'Service unavailable', code: 'TIMEOUT' });
      else sendJson(res, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
      return;
    }
    this.log(`${method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`);
  }

  private httpEvent(
    req: IncomingMessage,
    url: URL,
    routeKey: string,
    pathParameters: Record<string, string>,
    body: Buffer,
  ): APIGatewayProxyEventV2 {
    const headers = lowerCaseHeaders(req);
    const cookies = headers.cookie ? headers.cookie.split(';').map((c) => c.trim()).filter(Boolean) : undefined;
    delete headers.cookie;
    const now = new Date();
    const binary = body.length > 0 && !isTextual(headers['content-type']);
    const host = headers.host ?? 'localhost';
    const query = queryParameters(url.searchParams);
    return {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      ...(cookies ? { cookies } : {}),
      headers,
      ...(query ? { queryStringParameters: query } : {}),
      ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
      requestContext: {
        accountId: LOCAL_ACCOUNT,
        apiId: API_ID,
        domainName: host,
        domainPrefix: host.split('.')[0] ?? host,
        http: {
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: sourceIp(req),
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: requestId(),
        routeKey,
        stage: '$default',
        time: clfTime(now),
        timeEpoch: now.getTime(),
      },
      ...(body.length > 0 ? { body: body.toString(binary ? 'base64' : 'utf8') } : {}),
      isBase64Encoded: binary,
    };
  }

  private wsEvent(
    routeKey: '$connect' | '$disconnect' | '$default',
    connectionId: string,
    req: { headers: Record<string, string>; query?: Record<string, string>; sourceIp: string; userAgent: string },
    extra: Record<string, unknown> = {},
  ): APIGatewayProxyWebsocketEventV2 {
    const now = new Date();
    const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
    const event = {
      ...(routeKey === '$connect'
        ? { headers: req.headers, ...(req.query ? { queryStringParameters: req.query } : {}) }
        : {}),
      requestContext: {
        routeKey,
        eventType,
        messageDirection: 'IN',
        extendedRequestId: requestId(),
        requestTime: clfTime(now),
        requestTimeEpoch: now.getTime(),
        stage: this.options.websocket.path.replace(/^\//, ''),
        connectedAt: this.connections.get(connectionId)?.connectedAt ?? now.getTime(),
        identity: { sourceIp: req.sourceIp, userAgent: req.userAgent },
        requestId: requestId(),
        domainName: req.headers.host ?? 'localhost',
        connectionId,
        apiId: API_ID,
        ...(routeKey === '$default' ? { messageId: requestId() } : {}),
      },
      isBase64Encoded: false,
      ...extra,
    };
    return event as unknown as APIGatewayProxyWebsocketEventV2;
  }

  private invokeWs(decl: HandlerDecl, event: unknown): Promise<unknown> {
    const invocation = this.options.runtime.invoke(decl.entry, event, {
      timeoutSeconds: decl.timeoutSeconds ?? HTTP_TIMEOUT_SECONDS,
      memoryMb: decl.memoryMb,
    });
    this.inFlight.add(invocation);
    void invocation.catch(() => undefined).finally(() => this.inFlight.delete(invocation));
    return invocation;
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== this.options.websocket.path) {
      refuseUpgrade(socket, 404, { error: `No WebSocket endpoint at ${url.pathname}`, code: 'NOT_FOUND' });
      return;
    }
    const connectionId = randomBytes(12).toString('base64url');
    const headers = lowerCaseHeaders(req);
    const info = { headers, query: queryParameters(url.searchParams), sourceIp: sourceIp(req), userAgent: headers['user-agent'] ?? '' };
    let result: unknown;
    try {
      result = await this.invokeWs(this.options.websocket.connect, this.wsEvent('$connect', connectionId, info));
    } catch (error) {
      this.log(`$connect failed: ${error instanceof Error ? error.message : String(error)}`);
      refuseUpgrade(socket, 500, { error: 'Internal server error', code: 'INTERNAL_ERROR' });
      return;
    }
    const status =
      result !== null && typeof result === 'object' && 'statusCode' in result ? Number((result as StructuredResult).statusCode) : 200;
    if (status < 200 || status > 299) {
      const body = (result as StructuredResult).body ?? '';
      refuseUpgrade(socket, status, body);
      this.log(`ws connect refused ${status}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const now = Date.now();
      this.connections.set(connectionId, { socket: ws, connectedAt: now, lastActiveAt: now, sourceIp: info.sourceIp, userAgent: info.userAgent });
      this.log(`ws connected ${connectionId}`);
      ws.on('message', (data: RawData, isBinary: boolean) => {
        const connection = this.connections.get(connectionId);
        if (connection) connection.lastActiveAt = Date.now();
        const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        const event = this.wsEvent('$default', connectionId, info, {
          body: buffer.toString(isBinary ? 'base64' : 'utf8'),
          isBase64Encoded: isBinary,
        });
        this.invokeWs(this.options.websocket.default, event)
          .then((reply) => {
            // A $default route with a route response sends the handler's body back to the caller.
            const body = reply !== null && typeof reply === 'object' && 'body' in reply ? (reply as StructuredResult).body : undefined;
            if (typeof body === 'string' && body.length > 0 && ws.readyState === ws.OPEN) ws.send(body);
          })
          .catch((error: unknown) => this.log(`$default failed: ${error instanceof Error ? error.message : String(error)}`));
      });
      ws.on('close', (code: number, reason: Buffer) => {
        this.connections.delete(connectionId);
        const event = this.wsEvent('$disconnect', connectionId, info, {
          requestContext: {
            ...this.wsEvent('$disconnect', connectionId, info).requestContext,
            disconnectStatusCode: code,
            disconnectReason: reason.toString(),
          },
        });
        this.invokeWs(this.options.websocket.disconnect, event).catch((error: unknown) =>
          this.log(`$disconnect failed: ${error instanceof Error ? error.message : String(error)}`),
        );
      });
    });
  }

  /** The `@connections` API of API Gateway, in the REST-JSON shape the management API client expects. */
  private async handleManagement(req: IncomingMessage, res: ServerResponse, method: string, connectionId: string): Promise<void> {
    const connection = this.connections.get(connectionId);
    const body = await readBody(req).catch(() => null);
    if (body === null) {
      sendJson(res, 413, { message: 'Payload too large' }, { 'x-amzn-errortype': 'PayloadTooLargeException' });
      return;
    }
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      sendJson(res, 410, { message: `Connection ${connectionId} is gone` }, { 'x-amzn-errortype': 'GoneException' });
      return;
    }
    if (method === 'POST') {
      if (body.length > 128 * 1024) {
        sendJson(res, 413, { message: 'Message exceeds 128 KB' }, { 'x-amzn-errortype': 'PayloadTooLargeException' });
        return;
      }
      connection.socket.send(body.toString('utf8'));
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    } else if (method === 'GET') {
      sendJson(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      });
    } else if (method === 'DELETE') {
      connection.socket.close(1000, 'Deleted');
      res.writeHead(204);
      res.end();
    } else {
      sendJson(res, 405, { message: `Method ${method} not allowed` }, { 'x-amzn-errortype': 'BadRequestException' });
    }
  }
}

function refuseUpgrade(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}
