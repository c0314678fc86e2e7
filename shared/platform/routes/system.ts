import * as v from 'valibot';
import type { RouteDecl } from '../declarations.ts';

/** GET /api/health's answer: 200 when healthy; 503 adds `error`, `code` and `failing`. */
export const HealthResponse = v.object({
  status: v.picklist(['healthy', 'unhealthy']),
  version: v.string(),
  services: v.record(v.string(), v.picklist(['up', 'down', 'not_configured'])),
});

export const systemRoutes = [
  {
    method: 'GET', path: '/api/health', access: 'public', entry: 'lambdas/http/get-health.ts',
    summary: 'Health of the table, bucket, queues, GitHub and model',
    schemas: { response: HealthResponse },
  },
] as const satisfies readonly RouteDecl[];
