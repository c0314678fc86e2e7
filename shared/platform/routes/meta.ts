import { OpenApiDocumentSchema } from '../../http/openapi.ts';
import type { RouteDecl } from '../declarations.ts';

export const metaRoutes = [
  {
    method: 'GET', path: '/api/openapi.json', access: 'public', entry: 'lambdas/http/get-openapi.ts',
    summary: 'OpenAPI 3.1 document of every route, generated from the schemas that validate requests',
    schemas: { response: OpenApiDocumentSchema },
  },
] as const satisfies readonly RouteDecl[];
