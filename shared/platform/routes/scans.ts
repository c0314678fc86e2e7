import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import { paginationEntries } from '../../http/pagination.ts';
import type { RouteDecl } from '../declarations.ts';
import { ScanModelSchema } from './ai.ts';
import { IdParams, listEnvelope, ResourceId, ScanSchema } from './repositories.ts';

export const ScanListQuery = v.object({
  ...paginationEntries,
  repositoryId: v.optional(ResourceId),
  status: v.optional(v.picklist(['queued', 'scanning', 'completed', 'failed'])),
});

export const ScanReportQuery = v.object({ format: v.optional(v.picklist(['json', 'sarif', 'pdf']), 'json') });

export const BulkScanBody = v.strictObject({ repositoryIds: v.pipe(v.array(ResourceId), v.minLength(1), v.maxLength(50)) });

/** One scan with what its model pass did and cost (tokens and estimated cost; null before the pass ran). */
export const ScanDetailSchema = v.object({ ...ScanSchema.entries, model: ScanModelSchema });

export const ScanListResponse = v.object({ scans: v.array(ScanSchema), ...listEnvelope });

/** The stored JSON report or SARIF 2.1.0 log, as written by the scan pipeline. */
export const ScanReportResponse = v.record(v.string(), v.unknown());

export const BulkScanResponse = v.pipe(
  v.object({
    scans: v.array(ScanSchema),
    rejected: v.array(v.object({ repositoryId: v.string(), error: v.string(), code: v.string() })),
  }),
  successStatus(202),
);

export const scanRoutes = [
  {
    method: 'GET', path: '/api/scans', access: 'user', entry: 'lambdas/http/list-scans.ts',
    summary: "The caller's scans, newest first, optionally of one repository or status",
    schemas: { query: ScanListQuery, response: ScanListResponse },
  },
  {
    method: 'GET', path: '/api/scans/{id}', access: 'user', entry: 'lambdas/http/get-scan.ts',
    summary: 'One scan with its progress, summary and model usage',
    schemas: { params: IdParams, response: ScanDetailSchema },
  },
  {
    method: 'GET', path: '/api/scans/{id}/report', access: 'user', entry: 'lambdas/http/get-scan-report.ts',
    summary: 'The scan report as JSON or SARIF (404 REPORT_NOT_READY until written; pdf is not available yet)',
    schemas: { params: IdParams, query: ScanReportQuery, response: ScanReportResponse },
  },
  {
    method: 'POST', path: '/api/scans/bulk', access: 'user', entry: 'lambdas/http/start-bulk-scan.ts',
    summary: 'Queue a scan of each listed repository while the daily quota lasts',
    schemas: { body: BulkScanBody, response: BulkScanResponse },
  },
] as const satisfies readonly RouteDecl[];
