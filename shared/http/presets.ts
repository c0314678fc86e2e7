import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import * as v from 'valibot';
import { preloadSecrets } from '../runtime/env.ts';
import { logger, traceHandler } from '../runtime/powertools.ts';
import { assertNotRevoked, bearerToken, verifyTokenSignature, type AuthUser } from './auth.ts';
import { admitUserRequest, enforcePublicRateLimit } from './rate-limit.ts';
import {
  AppError,
  BadRequestError,
  UnsupportedMediaTypeError,
  ValidationError,
  toErrorResponse,
  type FieldIssue,
} from './errors.ts';

type AnySchema = v.GenericSchema;
type Out<S> = S extends AnySchema ? v.InferOutput<S> : undefined;

/** valibot issues as `{ path, message }`, the path prefixed with the part of the input (`body`, `query`…). */
export function toFieldIssues(issues: readonly v.BaseIssue<unknown>[], prefix?: string): FieldIssue[] {
  return issues.map((issue) => {
    const keys = (issue.path ?? []).map((item) => String(item.key));
    return { path: [prefix, ...keys].filter(Boolean).join('.') || (prefix ?? '$'), message: issue.message };
  });
}

/** Parses `input` with `schema` or throws a ValidationError listing every field issue. */
export function parseOrThrow<S extends AnySchema>(schema: S, input: unknown, prefix?: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.issues, prefix));
  return result.output;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function correlationIdOf(event: APIGatewayProxyEventV2): string {
  const fromHeader = event.headers?.['x-correlation-id'];
  return fromHeader && CORRELATION_ID.test(fromHeader) ? fromHeader : event.requestContext.requestId;
}

// ---------------------------------------------------------------------------------------------------------- HTTP

export type Access = 'public' | 'user';

export interface RouteOptions<A extends Access, B, Q, P> {
  readonly access: A;
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** Count the route against the rate limits of SPEC §4 (per IP when public, per user otherwise). @default true */
  readonly rateLimit?: boolean;
  /**
   * The route only reads, and only what the verified token's user owns. Its work then runs while the write that
   * counts the request and reads the token's revocation is in flight, and its answer is sent only once that
   * passes: a revoked or limited caller still gets their 401/429 and nothing else, and the list pages cost one
   * round trip less.
   * Never for routes that write, call the model or start work. @default false
   */
  readonly readOnly?: boolean;
}

export interface RouteInput<A extends Access, B, Q, P> {
  readonly body: Out<B>;
  readonly query: Out<Q>;
  readonly params: Out<P>;
  readonly user: A extends 'user' ? AuthUser : undefined;
  readonly event: APIGatewayProxyEventV2;
  readonly context: Context;
}

/** An explicit answer; anything else a route returns is sent as a 200 JSON body. */
export interface RouteResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

function isRouteResponse(value: unknown): value is RouteResponse {
  if (typeof value !== 'object' || value === null || typeof (value as RouteResponse).status !== 'number') return false;
  return Object.keys(value).every((key) => key === 'status' || key === 'body' || key === 'headers');
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

function jsonResult(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): APIGatewayProxyStructuredResultV2 {
  if (status === 204 || body === undefined) return { statusCode: status, headers: { 'Cache-Control': 'no-store', ...headers } };
  return { statusCode: status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** JSON bodies only when there is a body: a bodiless request reaches validation as `undefined`. */
function jsonBody(): MiddlewareObj<APIGatewayProxyEventV2> {
  const parser = httpJsonBodyParser();
  return {
    before: async (request) => {
      const { body } = request.event;
      if (body === undefined || body === null || body === '') return;
      try {
        await parser.before?.(request as never);
      } catch (error) {
        if ((error as Error).message === 'Unsupported Media Type') throw new UnsupportedMediaTypeError();
        throw new BadRequestError('The request body is not valid JSON', 'INVALID_JSON');
      }
    },
  };
}

/** Turns any error into the `{ error, code }` answer; 5xx details are logged, never sent. Registered last. */
function httpErrors(): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyResultV2> {
  return {
    onError: async (request) => {
      const { status, headers, body } = toErrorResponse(request.error);
      if (status >= 500) logger.error('Request failed', { error: request.error as Error });
      else logger.info('Request rejected', { status, code: body.code });
      request.response = jsonResult(status, body, { ...headers, 'X-Correlation-Id': String(logger.getCorrelationId() ?? '') });
    },
  };
}

function correlation(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    before: async (request) => {
      logger.setCorrelationId(correlationIdOf(request.event));
    },
  };
}

function corsOrigins(): string[] {
  const origin = process.env.FRONTEND_URL?.trim().replace(/\/+$/, '');
  return origin ? [origin] : [];
}

/**
 * An HTTP API (payload 2.0) route: headers normalised, Bearer JWT verified for `user` routes (before anything
 * else is looked at), rate limits counted, JSON body parsed, body/query/path validated, CORS and security headers, correlation id,
 * and the error handler last.
 */
export function httpRoute<A extends Access, B extends AnySchema | undefined = undefined, Q extends AnySchema | undefined = undefined, P extends AnySchema | undefined = undefined>(
  options: RouteOptions<A, B, Q, P>,
  fn: (input: RouteInput<A, B, Q, P>) => Promise<unknown> | unknown,
) {
  if (options.access === 'user') preloadSecrets(['JWT_SECRET']);
  const users = new WeakMap<APIGatewayProxyEventV2, AuthUser>();
  const pendingChecks = new WeakMap<APIGatewayProxyEventV2, Promise<void>>();
  const authenticate: MiddlewareObj<APIGatewayProxyEventV2> = {
    before: async (request) => {
      if (options.access !== 'user') return;
      const user = await verifyTokenSignature(bearerToken(request.event.headers?.authorization));
      // Counts the request and learns whether the token was revoked, with at most one write.
      const checks = options.rateLimit === false ? assertNotRevoked(user) : admitUserRequest(user);
      logger.appendKeys({ userId: user.userId });
      users.set(request.event, user);
      if (!options.readOnly) {
        await checks;
        return;
      }
      // Awaited in `handle`; handled here too so a later middleware's error leaves no unhandled rejection.
      checks.catch(() => undefined);
      pendingChecks.set(request.event, checks);
    },
  };
  const rateLimit: MiddlewareObj<APIGatewayProxyEventV2> = {
    before: async (request) => {
      // Authenticated routes are counted in `authenticate`, with the revocation lookup.
      if (options.rateLimit === false || options.access === 'user') return;
      await enforcePublicRateLimit(request.event);
    },
  };
  const handle = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
    const checks = pendingChecks.get(event);
    if (checks) {
      // The caller's checks decide first: their error wins over anything the route's own work answered.
      const [passed, answer] = await Promise.allSettled([checks, answerRoute(event, context)]);
      if (passed.status === 'rejected') throw passed.reason;
      if (answer.status === 'rejected') throw answer.reason;
      return answer.value;
    }
    return answerRoute(event, context);
  };
  const answerRoute = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
    const user = users.get(event);
    const parse = (schema: AnySchema | undefined, input: unknown, part: string) =>
      schema ? parseOrThrow(schema, input, part) : undefined;
    const input = {
      body: parse(options.body, event.body, 'body'),
      query: parse(options.query, event.queryStringParameters ?? {}, 'query'),
      params: parse(options.params, event.pathParameters ?? {}, 'params'),
      user,
      event,
      context,
    } as RouteInput<A, B, Q, P>;
    const result = await fn(input);
    const correlationHeader = { 'X-Correlation-Id': String(logger.getCorrelationId() ?? '') };
    return isRouteResponse(result)
      ? jsonResult(result.status, result.body, { ...result.headers, ...correlationHeader })
      : jsonResult(200, result, correlationHeader);
  };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .use(httpCors({ origins: corsOrigins(), credentials: false, headers: 'Authorization,Content-Type,X-Correlation-Id', exposeHeaders: 'Retry-After,X-Correlation-Id', maxAge: 600 }))
    .use(httpSecurityHeaders())
    .use(correlation())
    .use(httpHeaderNormalizer())
    .use(authenticate)
    .use(rateLimit)
    .use(jsonBody())
    .use(httpErrors())
    .handler(handle);
}

// ---------------------------------------------------------------------------------------------------------- SQS

const SqsEventSchema = v.object({
  Records: v.array(v.looseObject({ messageId: v.string(), body: v.string(), receiptHandle: v.string() })),
});

export interface MessageInput {
  readonly record: SQSRecord;
  readonly context: Context;
}

/**
 * An SQS consumer: every record's JSON body is parsed with `schema` and handed to `fn` one at a time; a record
 * that is malformed, invalid or fails is reported in `batchItemFailures`, so only it is retried (and dead-lettered).
 */
export function queueConsumer<S extends AnySchema>(
  schema: S,
  fn: (message: v.InferOutput<S>, input: MessageInput) => Promise<void> | void,
) {
  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // A processor per batch: it holds the batch's state, and the local stack runs batches concurrently in one process.
    const processor = new BatchProcessor(EventType.SQS);
    parseOrThrow(SqsEventSchema, event, 'event');
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      logger.setCorrelationId(record.messageId);
      try {
        let body: unknown;
        try {
          body = JSON.parse(record.body);
        } catch {
          throw new BadRequestError('The message body is not valid JSON', 'INVALID_JSON');
        }
        await fn(parseOrThrow(schema, body, 'message'), { record, context });
      } catch (error) {
        const details = error instanceof ValidationError ? { issues: error.issues } : {};
        logger.error('Message failed', { messageId: record.messageId, ...details, error: error as Error });
        throw error;
      }
    };
    return processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .handler(handle);
}

// ---------------------------------------------------------------------------------------------- workflow steps

/** Correlates a step's logs by the job it works on. */
function jobIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const record = input as Record<string, unknown>;
  for (const key of ['scanId', 'fixId', 'vulnerabilityId', 'jobId']) {
    if (typeof record[key] === 'string') return record[key];
  }
  return undefined;
}

/**
 * A Step Functions task: input parsed with `schema`, output typed. Errors keep their class name (`ValidationError`,
 * `NotImplementedError`…) as the Lambda error type, which Retry/Catch match on.
 */
export function workflowStep<S extends AnySchema, R>(
  schema: S,
  fn: (input: v.InferOutput<S>, context: Context) => Promise<R> | R,
) {
  const handle = async (event: unknown, context: Context): Promise<R> => {
    const id = jobIdOf(event);
    if (id) logger.setCorrelationId(id);
    try {
      return await fn(parseOrThrow(schema, event, 'input'), context);
    } catch (error) {
      const details = error instanceof AppError ? { code: error.code, ...error.details } : {};
      logger.error('Workflow step failed', { ...details, error: error as Error });
      throw error;
    }
  };
  return middy<unknown, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .handler(handle);
}

// --------------------------------------------------------------------------------------------------- WebSocket

/** API Gateway WebSocket event ($connect carries headers and the query string). */
const WebSocketEventSchema = v.looseObject({
  requestContext: v.looseObject({
    routeKey: v.string(),
    eventType: v.picklist(['CONNECT', 'MESSAGE', 'DISCONNECT']),
    connectionId: v.pipe(v.string(), v.minLength(1)),
    requestId: v.optional(v.string()),
    domainName: v.optional(v.string()),
    stage: v.optional(v.string()),
  }),
  headers: v.optional(v.nullable(v.record(v.string(), v.optional(v.string())))),
  queryStringParameters: v.optional(v.nullable(v.record(v.string(), v.optional(v.string())))),
  body: v.optional(v.nullable(v.string())),
  isBase64Encoded: v.optional(v.boolean()),
});
export type WebSocketEvent = v.InferOutput<typeof WebSocketEventSchema>;

export interface WebSocketResult {
  readonly statusCode: number;
  readonly body?: string;
}

/** A WebSocket route ($connect, $disconnect, $default): AppErrors answer their status, others a bare 500. */
export function wsRoute(fn: (event: WebSocketEvent, context: Context) => Promise<WebSocketResult> | WebSocketResult) {
  const handle = async (raw: unknown, context: Context): Promise<WebSocketResult> => {
    try {
      const event = parseOrThrow(WebSocketEventSchema, raw, 'event');
      logger.setCorrelationId(event.requestContext.requestId ?? event.requestContext.connectionId);
      logger.appendKeys({ connectionId: event.requestContext.connectionId, routeKey: event.requestContext.routeKey });
      return await fn(event, context);
    } catch (error) {
      const { status, body } = toErrorResponse(error);
      if (status >= 500) logger.error('WebSocket route failed', { error: error as Error });
      else logger.info('WebSocket request rejected', { status, code: body.code });
      return { statusCode: status, body: JSON.stringify(body) };
    }
  };
  return middy<unknown, WebSocketResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .handler(handle);
}

// --------------------------------------------------------------------------------------------------- schedules

const ScheduledEventSchema = v.looseObject({
  id: v.string(),
  'detail-type': v.string(),
  source: v.string(),
  time: v.pipe(v.string(), v.isoTimestamp()),
  resources: v.optional(v.array(v.string())),
  detail: v.optional(v.unknown()),
});
export type ScheduledEvent = v.InferOutput<typeof ScheduledEventSchema>;

/** An EventBridge scheduled job; the event is validated and its id is the correlation id. */
export function scheduledJob<R>(fn: (event: ScheduledEvent, context: Context) => Promise<R> | R) {
  const handle = async (raw: unknown, context: Context): Promise<R> => {
    const event = parseOrThrow(ScheduledEventSchema, raw, 'event');
    logger.setCorrelationId(event.id);
    try {
      return await fn(event, context);
    } catch (error) {
      logger.error('Scheduled job failed', { error: error as Error });
      throw error;
    }
  };
  return middy<unknown, R>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .handler(handle);
}
