import { openApiDocument } from '../../shared/http/openapi.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { routes } from '../../shared/platform/declarations.ts';

/** GET /api/openapi.json: the OpenAPI 3.1 document of the route table. */
export const handler = httpRoute({ access: 'public' }, () => openApiDocument(routes));
