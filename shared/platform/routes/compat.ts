import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import type { RouteDecl } from '../declarations.ts';
import { BranchName, ResourceId } from './repositories.ts';

export const CompatScanBody = v.object({
  repoUrl: v.pipe(v.string(), v.maxLength(2048), v.url('Must be a repository URL')),
  branch: v.optional(BranchName),
});

export const CompatScanParams = v.object({ scanId: ResourceId });

export const CompatScanStartedResponse = v.pipe(
  v.object({ scanId: v.string(), status: v.literal('initiated'), executionId: v.string(), message: v.string() }),
  successStatus(202),
);

export const CompatScanStatusResponse = v.object({
  scanId: v.string(),
  status: v.picklist(['initiated', 'scanning', 'completed', 'failed']),
  progress: v.object({ cloned: v.boolean(), scanned: v.boolean(), issuesFound: v.number(), issuesFixed: v.number(), prCreated: v.boolean() }),
  results: v.nullable(
    v.object({
      summary: v.record(v.string(), v.number()),
      reports: v.array(v.object({ format: v.picklist(['json', 'sarif']), url: v.string() })),
    }),
  ),
});

/** The second seed's scan API, over the same scans as `/api/scans`. */
export const compatRoutes = [
  {
    method: 'POST', path: '/api/scan', access: 'user', entry: 'lambdas/http/start-compat-scan.ts',
    summary: 'Second-seed form: queue a scan of a connected repository by its URL',
    schemas: { body: CompatScanBody, response: CompatScanStartedResponse },
  },
  {
    method: 'GET', path: '/api/scan/{scanId}', access: 'user', entry: 'lambdas/http/get-compat-scan.ts',
    summary: 'Second-seed form: status, progress and results of a scan',
    schemas: { params: CompatScanParams, response: CompatScanStatusResponse },
  },
] as const satisfies readonly RouteDecl[];
