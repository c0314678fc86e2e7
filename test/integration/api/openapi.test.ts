import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApi, type Api } from './support.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as v from 'valibot';
import type { Services } from '../../../lib/local/stack.ts';
import { buildOpenApiDocument, undocumentedRoutes, UndocumentedRouteError, type OpenApiDocument } from '../../../shared/http/openapi.ts';
import { routes, type RouteDecl } from '../../../shared/platform/declarations.ts';

jest.setTimeout(60_000);

interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: object }> }>;
}

let services: Services;
let api: Api;
let document: OpenApiDocument;

beforeAll(async () => {
  ({ services, api } = await startApi());
  const res = await api.request<OpenApiDocument>('/api/openapi.json');
  expect(res.status).toBe(200);
  document = res.body;
}, 60_000);
afterAll(async () => {
  await services?.stop();
});

const operationOf = (route: RouteDecl): Operation | undefined =>
  (document.paths[route.path] as Record<string, Operation> | undefined)?.[route.method.toLowerCase()];

describe('GET /api/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    type Spec = Parameters<Validator['validate']>[0];
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does refuse a broken document: an operation whose response has no description.
    const broken = structuredClone(document) as unknown as { paths: Record<string, Record<string, { responses: Record<string, object> }>> };
    const first = Object.values(Object.values(broken.paths)[0] ?? {})[0];
    if (first) first.responses = { 200: { content: {} } };
    expect((await new Validator().validate(broken as unknown as Spec)).valid).toBe(false);
  });

  it('names every route of the route table, and nothing else', () => {
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    const ids = routes.map((r) => operationOf(r)?.operationId);
    expect(new Set(ids).size).toBe(routes.length);
  });

  it.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: security, parameters, body and error responses', (_key, route) => {
    const op = operationOf(route);
    expect(op).toBeDefined();
    if (!op) return;
    expect(op.security).toEqual(route.access === 'user' ? [{ bearerAuth: [] }] : []);
    const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
    expect(success).toHaveLength(1);
    expect(op.responses[success[0] as string]?.content?.['application/json']?.schema).toBeDefined();
    const pathParams = [...route.path.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]);
    expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort()).toEqual(pathParams.sort());
    expect(op.responses['401']?.$ref === '#/components/responses/Unauthorized').toBe(route.access !== 'public');
    expect(op.responses['404'] !== undefined).toBe(pathParams.length > 0);
    expect(op.responses['400'] !== undefined).toBe(Boolean(route.schemas?.body ?? route.schemas?.query ?? route.schemas?.params));
    expect(op.requestBody !== undefined).toBe(route.schemas?.body !== undefined);
    expect(op.responses['429']?.$ref).toBe('#/components/responses/TooManyRequests');
    expect(op.responses['500']?.$ref).toBe('#/components/responses/InternalError');
  });

  it('carries JSON Schemas (2020-12) that compile, and the register body keeps its rules', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    for (const route of routes) {
      const op = operationOf(route) as Operation;
      const schemas = [
        op.requestBody?.content['application/json']?.schema,
        ...Object.values(op.responses).map((r) => r.content?.['application/json']?.schema),
        ...(op.parameters ?? []).map((p) => p.schema),
      ].filter((s): s is object => s !== undefined);
      for (const schema of schemas) expect(() => ajv.compile(schema)).not.toThrow();
    }
    const register = operationOf(routes.find((r) => r.path === '/api/auth/register') as RouteDecl);
    const body = ajv.compile(register?.requestBody?.content['application/json']?.schema ?? {});
    expect(body({ email: 'ann@example.com', username: 'ann', password: 'twelve chars' })).toBe(true);
    expect(body({ email: 'ann@example.com', username: 'ann', password: 'short' })).toBe(false);
    expect(body({ email: 'not an email', username: 'ann', password: 'twelve chars' })).toBe(false);
    expect(register?.responses['201']).toBeDefined();
  });

  it('describes the error body and Retry-After once, by reference', () => {
    const components = document.components as { schemas: { Error: { required: string[] } }; responses: Record<string, { headers?: Record<string, unknown> }> };
    expect(components.schemas.Error.required).toEqual(['error', 'code']);
    expect(Object.keys(components.responses.TooManyRequests?.headers ?? {})).toEqual(['Retry-After']);
  });
});

describe('a route without schemas', () => {
  const bare: RouteDecl = { method: 'GET', path: '/api/things/{id}', access: 'user', entry: 'lambdas/http/get-thing.ts', summary: 'A thing' };

  it('every declared route has its schemas', () => {
    expect(undocumentedRoutes(routes)).toEqual([]);
  });

  it('cannot be documented: the generator (and so GET /api/openapi.json and this suite) fails naming it', () => {
    expect(() => buildOpenApiDocument([...routes, bare])).toThrow(UndocumentedRouteError);
    expect(() => buildOpenApiDocument([...routes, bare])).toThrow('GET /api/things/{id}: no schemas');
    expect(() => buildOpenApiDocument([{ ...bare, schemas: { params: v.object({ id: v.string() }) } }])).toThrow('no response schema');
    expect(() => buildOpenApiDocument([{ ...bare, schemas: { response: v.object({ id: v.string() }) } }])).toThrow('path parameters without a params schema');
    expect(() => buildOpenApiDocument([{ ...bare, schemas: { params: v.object({ id: v.string() }), response: v.object({ id: v.string() }) } }])).not.toThrow();
  });

  it('a schema the generator cannot express fails too, instead of documenting nothing', () => {
    const custom = v.custom<string>((x) => typeof x === 'string');
    expect(() => buildOpenApiDocument([{ method: 'GET', path: '/api/x', access: 'public', entry: 'lambdas/http/x.ts', summary: 'x', schemas: { response: custom } }])).toThrow();
  });
});
