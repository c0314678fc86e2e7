import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import { paginationEntries } from '../../http/pagination.ts';
import type { RouteDecl } from '../declarations.ts';

const SEVERITY = ['critical', 'high', 'medium', 'low', 'info'] as const;

/** Ids the service issues (UUIDs); anything else is a malformed request, not a missing resource. */
export const ResourceId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,64}$/, 'Must be a resource id'));
export const IdParams = v.object({ id: ResourceId });
export const Timestamp = v.pipe(v.string(), v.isoTimestamp());
export const BranchName = v.pipe(v.string(), v.regex(/^(?!.*\.\.)[A-Za-z0-9._/-]{1,255}$/, 'Must be a branch name'));

export const ConnectRepositoryBody = v.strictObject({
  fullName: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/, 'Must be owner/name'))),
  localPath: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096), v.regex(/^[^\0]+$/, 'Must not contain NUL characters'))),
});

export const RepositorySettingsBody = v.strictObject({
  autoScanEnabled: v.optional(v.boolean()),
  autoFixEnabled: v.optional(v.boolean()),
  scanBranches: v.optional(v.pipe(v.array(BranchName), v.minLength(1), v.maxLength(20))),
  severityThreshold: v.optional(v.picklist(SEVERITY)),
});

export const StartScanBody = v.optional(v.strictObject({ branch: v.optional(BranchName) }));
export const RepositoryListQuery = v.object(paginationEntries);

/** One entry of the first seed's "Repository List Response". */
export const RepositorySummarySchema = v.object({
  id: v.string(),
  name: v.string(),
  fullName: v.string(),
  owner: v.string(),
  private: v.boolean(),
  language: v.nullable(v.string()),
  totalVulnerabilities: v.number(),
  criticalCount: v.number(),
  highCount: v.number(),
  mediumCount: v.number(),
  lowCount: v.number(),
  securityScore: v.number(),
  scanStatus: v.picklist(['never', 'queued', 'scanning', 'completed', 'failed']),
  lastScanAt: v.nullable(Timestamp),
  autoScanEnabled: v.boolean(),
  autoFixEnabled: v.boolean(),
});

export const RepositoryDetailSchema = v.object({
  ...RepositorySummarySchema.entries,
  provider: v.picklist(['github', 'local']),
  defaultBranch: v.string(),
  infoCount: v.number(),
  scanBranches: v.array(v.string()),
  severityThreshold: v.picklist(SEVERITY),
  lastScanId: v.nullable(v.string()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export const listEnvelope = {
  total: v.number(),
  page: v.number(),
  perPage: v.number(),
  nextCursor: v.nullable(v.string()),
};

export const RepositoryListResponse = v.object({ repositories: v.array(RepositorySummarySchema), ...listEnvelope });

/** A scan as the API shows it. */
export const ScanSchema = v.object({
  id: v.string(),
  repositoryId: v.string(),
  repositoryName: v.string(),
  status: v.picklist(['queued', 'scanning', 'completed', 'failed']),
  trigger: v.string(),
  branch: v.string(),
  commitSha: v.nullable(v.string()),
  startedAt: Timestamp,
  completedAt: v.nullable(Timestamp),
  progress: v.object({ cloned: v.boolean(), scanned: v.boolean(), issuesFound: v.number(), issuesFixed: v.number(), prCreated: v.boolean() }),
  summary: v.nullable(v.record(v.string(), v.number())),
  reportFormats: v.array(v.picklist(['json', 'sarif'])),
  failureReason: v.nullable(v.string()),
});

const Count = v.number();
export const RepositoryStatisticsResponse = v.object({
  repositoryId: v.string(),
  securityScore: v.number(),
  totalVulnerabilities: v.number(),
  openBySeverity: v.object({ critical: Count, high: Count, medium: Count, low: Count, info: Count }),
  byStatus: v.record(v.string(), Count),
  topTypes: v.array(v.object({ type: v.string(), count: Count })),
  topFiles: v.array(v.object({ filePath: v.string(), count: Count })),
  scans: v.object({ total: Count, queued: Count, scanning: Count, completed: Count, failed: Count }),
  lastScanAt: v.nullable(Timestamp),
});

export const DeletedRepositoryResponse = v.object({
  id: v.string(),
  deleted: v.literal(true),
  vulnerabilitiesRemoved: v.number(),
  scansRemoved: v.number(),
});

export const repositoryRoutes = [
  {
    method: 'GET', path: '/api/repositories', access: 'user', entry: 'lambdas/http/list-repositories.ts',
    summary: "The caller's repositories, newest first, with their vulnerability counts",
    schemas: { query: RepositoryListQuery, response: RepositoryListResponse },
  },
  {
    method: 'POST', path: '/api/repositories/connect', access: 'user', entry: 'lambdas/http/connect-repository.ts',
    summary: 'Connect a GitHub repository the App is installed on ({ fullName }) or, locally, a git repository under LOCAL_REPO_ROOT ({ localPath })',
    schemas: { body: ConnectRepositoryBody, response: v.pipe(RepositoryDetailSchema, successStatus(201)) },
  },
  {
    method: 'GET', path: '/api/repositories/{id}', access: 'user', entry: 'lambdas/http/get-repository.ts',
    summary: 'One repository with its settings',
    schemas: { params: IdParams, response: RepositoryDetailSchema },
  },
  {
    method: 'DELETE', path: '/api/repositories/{id}', access: 'user', entry: 'lambdas/http/delete-repository.ts',
    summary: 'Disconnect a repository: its vulnerabilities, scans and fix records are deleted and it leaves the nightly scans',
    schemas: { params: IdParams, response: DeletedRepositoryResponse },
  },
  {
    method: 'PATCH', path: '/api/repositories/{id}/settings', access: 'user', entry: 'lambdas/http/update-repository-settings.ts',
    summary: 'Change auto-scan, auto-fix, scanned branches and the severity threshold',
    schemas: { params: IdParams, body: RepositorySettingsBody, response: RepositoryDetailSchema },
  },
  {
    method: 'POST', path: '/api/repositories/{id}/scan', access: 'user', entry: 'lambdas/http/start-repository-scan.ts',
    summary: 'Queue a scan of the repository (counts against the daily scan quota)',
    schemas: { params: IdParams, body: StartScanBody, response: v.pipe(ScanSchema, successStatus(202)) },
  },
  {
    method: 'GET', path: '/api/repositories/{id}/statistics', access: 'user', entry: 'lambdas/http/get-repository-statistics.ts',
    summary: 'Vulnerability counts by status, severity, type and file, and the scan record',
    schemas: { params: IdParams, response: RepositoryStatisticsResponse },
  },
] as const satisfies readonly RouteDecl[];
