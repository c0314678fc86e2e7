import { toJsonSchema, type ConversionConfig, type JsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import type { RouteDecl } from '../platform/declarations.ts';

/** Marks a response schema with a success status other than 200 (`v.pipe(Created, successStatus(201))`). */
export function successStatus<TInput>(code: number) {
  return v.metadata<TInput, { readonly status: number }>({ status: code });
}

/** The answer of GET /api/openapi.json, loosely: the generator below is what gives it its shape. */
export const OpenApiDocumentSchema = v.looseObject({
  openapi: v.string(),
  info: v.looseObject({ title: v.string(), version: v.string() }),
  paths: v.record(v.string(), v.record(v.string(), v.unknown())),
});

export type OpenApiDocument = v.InferOutput<typeof OpenApiDocumentSchema> & Record<string, unknown>;

/** A route the document cannot describe: every route must name its schemas (at least its response). */
export class UndocumentedRouteError extends Error {
  override readonly name = 'UndocumentedRouteError';
  constructor(readonly routes: readonly string[]) {
    super(`Routes without schemas cannot be documented: ${routes.join('; ')}`);
  }
}

const REQUEST: ConversionConfig = { target: 'draft-2020-12', typeMode: 'input', errorMode: 'throw' };
const RESPONSE: ConversionConfig = { target: 'draft-2020-12', typeMode: 'output', errorMode: 'throw' };

function jsonSchema(schema: v.GenericSchema, config: ConversionConfig): JsonSchema {
  const { $schema: _ignored, ...rest } = toJsonSchema(schema, config) as JsonSchema & { $schema?: string };
  return rest;
}

/** The success status named by a `successStatus` metadata action in the schema's pipe, else 200. */
function statusOf(schema: v.GenericSchema | undefined): number {
  const pipe = (schema as { pipe?: readonly { type?: string; metadata?: { status?: unknown } }[] } | undefined)?.pipe ?? [];
  for (const item of pipe) {
    if (item.type === 'metadata' && typeof item.metadata?.status === 'number') return item.metadata.status;
  }
  return 200;
}

function pathParamNames(path: string): string[] {
  return [...path.matchAll(/\{([A-Za-z0-9_]+)\+?\}/g)].map((m) => m[1] as string);
}

/** Each property of an object schema as an OpenAPI parameter in `location`. */
function parametersOf(schema: v.GenericSchema, location: 'path' | 'query'): Record<string, unknown>[] {
  const converted = jsonSchema(schema, REQUEST) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (converted.required ?? []).includes(name),
    schema: property,
  }));
}

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

function operationId(entry: string): string {
  const base = entry.split('/').pop()?.replace(/\.[cm]?[jt]s$/, '') ?? entry;
  return base.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function operation(route: RouteDecl): Record<string, unknown> {
  const schemas = route.schemas ?? {};
  const status = statusOf(schemas.response);
  const responses: Record<string, unknown> = {
    [String(status)]: {
      description: route.summary,
      ...(schemas.response ? { content: { 'application/json': { schema: jsonSchema(schemas.response, RESPONSE) } } } : {}),
    },
  };
  if (schemas.body || schemas.query || schemas.params) responses['400'] = ref('BadRequest');
  if (route.access !== 'public') responses['401'] = ref('Unauthorized');
  if (pathParamNames(route.path).length > 0) responses['404'] = ref('NotFound');
  responses['429'] = ref('TooManyRequests');
  responses['500'] = ref('InternalError');
  const parameters = [
    ...(schemas.params ? parametersOf(schemas.params, 'path') : []),
    ...(schemas.query ? parametersOf(schemas.query, 'query') : []),
  ];
  return {
    operationId: operationId(route.entry),
    summary: route.summary,
    tags: [route.path.split('/')[2] ?? 'api'],
    security: route.access === 'user' ? [{ bearerAuth: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(schemas.body
      ? { requestBody: { required: schemas.body.type !== 'optional', content: { 'application/json': { schema: jsonSchema(schemas.body, REQUEST) } } } }
      : {}),
    responses,
  };
}

/** Routes that cannot be documented: no schemas, no response schema, or path parameters without a params schema. */
export function undocumentedRoutes(routes: readonly RouteDecl[]): string[] {
  return routes.flatMap((route) => {
    const key = `${route.method} ${route.path}`;
    if (!route.schemas) return [`${key}: no schemas`];
    if (!route.schemas.response) return [`${key}: no response schema`];
    if (pathParamNames(route.path).length > 0 && !route.schemas.params) return [`${key}: path parameters without a params schema`];
    return [];
  });
}

const ErrorBody = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    issues: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    retryAfter: { type: 'integer', minimum: 1 },
  },
};

function errorResponse(description: string, headers?: Record<string, unknown>) {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

/**
 * OpenAPI 3.1 for a route table, every operation generated from the valibot schemas its handler validates with.
 * Throws {@link UndocumentedRouteError} when a route names no schemas, so a route cannot ship undocumented.
 */
export function buildOpenApiDocument(routes: readonly RouteDecl[], version = process.env.APP_VERSION ?? '0.1.0'): OpenApiDocument {
  const missing = undocumentedRoutes(routes);
  if (missing.length > 0) throw new UndocumentedRouteError(missing);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/\{([A-Za-z0-9_]+)\+\}/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'CodeGuardian API', version, description: 'Errors answer `{ error, code }`; validation errors list the field issues.' },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: ErrorBody },
      responses: {
        BadRequest: errorResponse('The request is invalid: `code` VALIDATION_ERROR with `issues`, or INVALID_JSON'),
        Unauthorized: errorResponse('Missing, invalid, expired or revoked token', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
        NotFound: errorResponse('No such resource for this user'),
        TooManyRequests: errorResponse('Rate limit or quota exceeded', { 'Retry-After': { required: true, schema: { type: 'integer', minimum: 1 } } }),
        InternalError: errorResponse('Unexpected failure; details are logged, never sent'),
      },
    },
  };
}

let cached: { routes: readonly RouteDecl[]; document: OpenApiDocument } | undefined;

/** The document for `routes`, built once per cold start. */
export function openApiDocument(routes: readonly RouteDecl[]): OpenApiDocument {
  if (cached?.routes !== routes) cached = { routes, document: buildOpenApiDocument(routes) };
  return cached.document;
}
