import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { SignJWT } from 'jose';
import * as v from 'valibot';
import { setBaseEnv, startDynamo, type LocalDynamo } from '../runtime/support/aws-local.ts';
import { httpEvent, lambdaContext, scheduledEvent, sqsEvent, wsEvent } from './support/events.ts';

setBaseEnv();
process.env.FRONTEND_URL = 'https://app.example.com';

const presets = await import('../../../shared/http/presets.ts');
const errors = await import('../../../shared/http/errors.ts');
const auth = await import('../../../shared/http/auth.ts');
const revoked = await import('../../../shared/db/user-access.ts');

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynamo();
}, 60_000);
afterAll(async () => {
  await dynamo?.stop();
});

const ctx = lambdaContext();
type Result = APIGatewayProxyStructuredResultV2;
const json = (result: Result): Record<string, unknown> => JSON.parse(result.body ?? 'null') as Record<string, unknown>;

const CreateBody = v.object({ email: v.pipe(v.string(), v.email()), name: v.pipe(v.string(), v.minLength(2)) });
const ListQuery = v.object({
  limit: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.maxValue(100)), '20'),
});
const IdParams = v.object({ id: v.pipe(v.string(), v.uuid()) });
const ID = '3f1c6f0e-2b7a-4c55-9a55-0f8d2a3b9c10';

const createRoute = presets.httpRoute({ access: 'public', body: CreateBody, query: ListQuery, params: IdParams }, ({ body, query, params }) => ({
  status: 201,
  body: { id: params.id, email: body.email, limit: query.limit },
}));
const post = (body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }, query?: Record<string, string>) =>
  createRoute(httpEvent({ method: 'POST', path: `/api/things/${ID}`, pathParameters: { id: ID }, headers, body, query }), ctx) as Promise<Result>;

describe('httpRoute: parsing and validation', () => {
  it('passes typed body, query and params and answers the explicit status', async () => {
    const result = await post(JSON.stringify({ email: 'ann@example.com', name: 'Ann' }), { 'content-type': 'application/json' }, { limit: '50' });
    expect(result.statusCode).toBe(201);
    expect(json(result)).toEqual({ id: ID, email: 'ann@example.com', limit: 50 });
    expect(result.headers?.['Content-Type']).toMatch(/^application\/json/);
  });

  it('accepts a content type with a charset and differently cased header names', async () => {
    const result = await post(JSON.stringify({ email: 'ann@example.com', name: 'Ann' }), { 'Content-Type': 'application/json; charset=utf-8' });
    expect(result.statusCode).toBe(201);
  });

  it('decodes a base64-encoded JSON body', async () => {
    const body = Buffer.from(JSON.stringify({ email: 'ann@example.com', name: 'Ann' })).toString('base64');
    const result = (await createRoute(
      httpEvent({ method: 'POST', pathParameters: { id: ID }, headers: { 'content-type': 'application/json' }, body, isBase64Encoded: true }),
      ctx,
    )) as Result;
    expect(result.statusCode).toBe(201);
  });

  it('answers 400 INVALID_JSON for a malformed body, without echoing it', async () => {
    const result = await post('{"email": "ann@example.com", "name": ');
    expect(result.statusCode).toBe(400);
    expect(json(result)).toEqual({ error: 'The request body is not valid JSON', code: 'INVALID_JSON' });
  });

  it('answers 415 for a body that is not JSON by content type', async () => {
    const result = await post('email=ann@example.com', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(result.statusCode).toBe(415);
    expect(json(result).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 400 VALIDATION_ERROR with every field issue', async () => {
    const result = await post(JSON.stringify({ email: 'not-an-email', name: 'A' }));
    expect(result.statusCode).toBe(400);
    const body = json(result);
    expect(body.code).toBe('VALIDATION_ERROR');
    const paths = (body.issues as { path: string; message: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['body.email', 'body.name']));
  });

  it('validates a missing body like any other invalid body', async () => {
    const result = await post(undefined);
    expect(result.statusCode).toBe(400);
    expect(json(result).issues).toEqual([expect.objectContaining({ path: 'body' })]);
  });

  it('validates query and path parameters', async () => {
    const badQuery = await post(JSON.stringify({ email: 'ann@example.com', name: 'Ann' }), undefined, { limit: '500' });
    expect(badQuery.statusCode).toBe(400);
    expect((json(badQuery).issues as { path: string }[])[0]?.path).toBe('query.limit');

    const badParams = await createRoute(
      httpEvent({ method: 'POST', pathParameters: { id: 'nope' }, headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.co","name":"Ann"}' }),
      ctx,
    ) as Result;
    expect(badParams.statusCode).toBe(400);
    expect((json(badParams).issues as { path: string }[])[0]?.path).toBe('params.id');
  });
});

describe('httpRoute: answers and errors', () => {
  it('sends a plain object as 200, with CORS for the frontend, security headers and the correlation id', async () => {
    const route = presets.httpRoute({ access: 'public' }, () => ({ status: 'healthy', items: [1, 2] }));
    const result = (await route(httpEvent({ headers: { origin: 'https://app.example.com', 'x-correlation-id': 'corr-123' } }), ctx)) as Result;
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ status: 'healthy', items: [1, 2] });
    expect(result.headers?.['Access-Control-Allow-Origin']).toBe('https://app.example.com');
    expect(result.headers?.['X-Content-Type-Options']).toBe('nosniff');
    expect(result.headers?.['X-Correlation-Id']).toBe('corr-123');
  });

  it('does not allow another origin', async () => {
    const route = presets.httpRoute({ access: 'public' }, () => ({ ok: true }));
    const result = (await route(httpEvent({ headers: { origin: 'https://evil.example.net' } }), ctx)) as Result;
    expect(result.headers?.['Access-Control-Allow-Origin']).not.toBe('https://evil.example.net');
  });

  it('shows AppErrors below 500 with their code and details', async () => {
    const route = presets.httpRoute({ access: 'public' }, () => {
      throw new errors.ConflictError('The app is not installed', 'APP_NOT_INSTALLED', { installUrl: 'https://github.com/apps/cg/installations/new' });
    });
    const result = (await route(httpEvent(), ctx)) as Result;
    expect(result.statusCode).toBe(409);
    expect(json(result)).toEqual({ error: 'The app is not installed', code: 'APP_NOT_INSTALLED', installUrl: 'https://github.com/apps/cg/installations/new' });
  });

  it('sets Retry-After on 429 and keeps security headers on errors', async () => {
    const route = presets.httpRoute({ access: 'public' }, () => {
      throw new errors.TooManyRequestsError(41.2);
    });
    const result = (await route(httpEvent(), ctx)) as Result;
    expect(result.statusCode).toBe(429);
    expect(result.headers?.['Retry-After']).toBe('42');
    expect(result.headers?.['X-Content-Type-Options']).toBe('nosniff');
    expect(json(result)).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 42 });
  });

  it('hides anything else behind a generic 500', async () => {
    const route = presets.httpRoute({ access: 'public' }, () => {
      throw new Error('connection to db failed: password=hunter2');
    });
    const result = (await route(httpEvent(), ctx)) as Result;
    expect(result.statusCode).toBe(500);
    expect(json(result)).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR' });
    expect(result.body).not.toContain('hunter2');
  });
});

describe('httpRoute: user routes', () => {
  const me = presets.httpRoute({ access: 'user', body: v.object({ note: v.string() }) }, ({ user, body }) => ({ userId: user.userId, note: body.note }));
  const call = (authorization: string | undefined, body = '{"note":"hi"}') =>
    me(httpEvent({ method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body }), ctx) as Promise<Result>;
  const user = { userId: 'u-1', email: 'ann@example.com', subscription: 'free' as const };
  const key = new TextEncoder().encode(process.env.JWT_SECRET);

  it('accepts a valid bearer token and hands the claims to the route', async () => {
    const result = await call(`Bearer ${await auth.signAccessToken(user)}`);
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ userId: 'u-1', note: 'hi' });
  });

  it('answers 401 without a token, before looking at the body', async () => {
    const result = await call(undefined, 'not json');
    expect(result.statusCode).toBe(401);
    expect(json(result).code).toBe('UNAUTHORIZED');
    expect(result.headers?.['WWW-Authenticate']).toBe('Bearer');
  });

  it('answers 401 for a token signed with another key, an expired token and alg none', async () => {
    const other = await new SignJWT({ ...user }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setJti('j1').setExpirationTime('1h')
      .sign(new TextEncoder().encode('some-other-key-some-other-key-some-other-key'));
    const expired = await new SignJWT({ ...user }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(1_700_000_000).setJti('j2')
      .setExpirationTime(1_700_000_600).sign(key);
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from(JSON.stringify({ ...user, iat: 1, exp: 4_000_000_000, jti: 'j3' })).toString('base64url');
    for (const token of [other, expired, `${header}.${payload}.`, 'garbage']) {
      const result = await call(`Bearer ${token}`);
      expect(result.statusCode).toBe(401);
      expect(json(result).code).toBe('UNAUTHORIZED');
    }
    expect(json(await call(`Bearer ${expired}`)).error).toBe('The token has expired');
  });

  it('answers 401 for a token missing claims', async () => {
    const token = await new SignJWT({ userId: 'u-1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setJti('j4').setExpirationTime('1h').sign(key);
    expect((await call(`Bearer ${token}`)).statusCode).toBe(401);
  });

  it('answers 401 once the token is revoked', async () => {
    const token = await auth.signAccessToken(user, { jti: 'to-revoke' });
    expect((await call(`Bearer ${token}`)).statusCode).toBe(200);
    await revoked.revokeToken('to-revoke', 'u-1', Math.floor(Date.now() / 1000) + 3600);
    const result = await call(`Bearer ${token}`);
    expect(result.statusCode).toBe(401);
    expect(json(result).error).toBe('The token has been revoked');
  });
});

describe('httpRoute: read-only user routes', () => {
  const user = { userId: 'u-ro', email: 'ro@example.com', subscription: 'free' as const };
  const started: string[] = [];
  const list = presets.httpRoute({ access: 'user', readOnly: true, query: v.object({ missing: v.optional(v.string()) }) }, ({ user: caller, query }) => {
    started.push(caller.userId);
    if (query.missing) throw new errors.NotFoundError('Thing not found');
    return { items: [caller.userId] };
  });
  const call = (token: string, query?: Record<string, string>) =>
    list(httpEvent({ method: 'GET', headers: { authorization: `Bearer ${token}` }, query }), ctx) as Promise<Result>;

  it('answers the route once the checks pass', async () => {
    const result = await call(await auth.signAccessToken(user));
    expect(result.statusCode).toBe(200);
    expect(json(result)).toEqual({ items: ['u-ro'] });
  });

  it('answers 401 for a revoked token whatever the route answered, and the route error when the checks pass', async () => {
    const token = await auth.signAccessToken(user, { jti: 'ro-revoke' });
    expect((await call(token, { missing: '1' })).statusCode).toBe(404);
    await revoked.revokeToken('ro-revoke', 'u-ro', Math.floor(Date.now() / 1000) + 3600);
    for (const query of [undefined, { missing: '1' }]) {
      const result = await call(token, query);
      expect(result.statusCode).toBe(401);
      expect(json(result)).toEqual({ error: 'The token has been revoked', code: 'UNAUTHORIZED' });
    }
  });

  it('answers 429 past the rate limit, with nothing of the route in the answer', async () => {
    const saved = process.env.RATE_LIMIT_USER;
    process.env.RATE_LIMIT_USER = '1';
    try {
      const token = await auth.signAccessToken({ ...user, userId: 'u-ro-limited' });
      expect((await call(token)).statusCode).toBe(200);
      const limited = await call(token);
      expect(limited.statusCode).toBe(429);
      expect(json(limited)).toMatchObject({ code: 'RATE_LIMITED' });
      expect(limited.body).not.toContain('items');
    } finally {
      if (saved === undefined) delete process.env.RATE_LIMIT_USER;
      else process.env.RATE_LIMIT_USER = saved;
    }
  });

  it('never starts the route without a valid signature', async () => {
    started.length = 0;
    expect((await call('garbage')).statusCode).toBe(401);
    expect(started).toEqual([]);
  });
});

describe('queueConsumer', () => {
  const Job = v.object({ id: v.string(), fail: v.optional(v.boolean()) });
  const seen: string[] = [];
  const consumer = presets.queueConsumer(Job, (job) => {
    if (job.fail) throw new Error(`job ${job.id} failed`);
    seen.push(job.id);
  });

  it('reports only the failed, invalid and malformed records', async () => {
    const event = sqsEvent([
      JSON.stringify({ id: 'a' }),
      JSON.stringify({ id: 'b', fail: true }),
      JSON.stringify({ nope: 1 }),
      '{not json',
      JSON.stringify({ id: 'e' }),
    ]);
    const result = (await consumer(event, ctx)) as SQSBatchResponse;
    const ids = event.Records.map((r) => r.messageId);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([ids[1], ids[2], ids[3]]);
    expect(seen).toEqual(['a', 'e']);
  });

  it('answers an empty failure list when every record succeeds, and all ids when all fail', async () => {
    expect(await consumer(sqsEvent([JSON.stringify({ id: 'x' })]), ctx)).toEqual({ batchItemFailures: [] });
    const allBad = sqsEvent(['1', '2']);
    const result = (await consumer(allBad, ctx)) as SQSBatchResponse;
    expect(result.batchItemFailures).toHaveLength(2);
  });

  it('rejects an event that is not an SQS batch', async () => {
    await expect(consumer({ Records: 'nope' } as never, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('workflowStep', () => {
  const step = presets.workflowStep(v.object({ scanId: v.string(), count: v.number() }), (input) => ({ ...input, count: input.count + 1 }));

  it('parses the input and returns the typed output', async () => {
    await expect(step({ scanId: 's1', count: 1 }, ctx)).resolves.toEqual({ scanId: 's1', count: 2 });
  });

  it('throws a named ValidationError for bad input, so Catch can match it', async () => {
    await expect(step({ scanId: 's1', count: 'x' }, ctx)).rejects.toMatchObject({ name: 'ValidationError', code: 'VALIDATION_ERROR' });
  });

  it('keeps the name of errors thrown by the step', async () => {
    const pending = presets.workflowStep(v.object({ scanId: v.string() }), () => errors.notImplemented('Fetching sources'));
    await expect(pending({ scanId: 's1' }, ctx)).rejects.toMatchObject({ name: 'NotImplementedError', code: 'NOT_IMPLEMENTED' });
  });
});

describe('wsRoute and scheduledJob', () => {
  it('answers the status of an AppError and a bare 500 otherwise', async () => {
    const denied = presets.wsRoute(() => {
      throw new errors.UnauthorizedError();
    });
    expect(await denied(wsEvent('$connect'), ctx)).toMatchObject({ statusCode: 401 });
    const broken = presets.wsRoute(() => {
      throw new Error('boom');
    });
    const result = await broken(wsEvent('$default', { body: 'x' }), ctx);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('boom');
  });

  it('refuses an event that is not a WebSocket event with 400', async () => {
    const route = presets.wsRoute(() => ({ statusCode: 200 }));
    expect(await route({ requestContext: { routeKey: '$connect' } }, ctx)).toMatchObject({ statusCode: 400 });
  });

  it('runs a scheduled job with a validated EventBridge event and rejects anything else', async () => {
    const job = presets.scheduledJob((event) => event['detail-type']);
    await expect(job(scheduledEvent(), ctx)).resolves.toBe('Scheduled Event');
    await expect(job({ id: 'x' }, ctx)).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
