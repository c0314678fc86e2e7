import type { RouteDecl } from '../declarations.ts';

export const systemRoutes = [
  { method: 'GET', path: '/api/health', access: 'public', entry: 'lambdas/http/get-health.ts', summary: 'Health of the table, bucket, queues, GitHub and model' },
] as const satisfies readonly RouteDecl[];
