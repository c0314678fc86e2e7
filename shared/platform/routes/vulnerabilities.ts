import * as v from 'valibot';
import { paginationEntries } from '../../http/pagination.ts';
import type { RouteDecl } from '../declarations.ts';
import { IdParams, listEnvelope, ResourceId, Timestamp } from './repositories.ts';

const SEVERITY = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const VULNERABILITY_STATUS = ['open', 'fixed', 'false_positive', 'ignored'] as const;

export const VulnerabilityListQuery = v.object({
  ...paginationEntries,
  severity: v.optional(v.picklist(SEVERITY)),
  status: v.optional(v.picklist(VULNERABILITY_STATUS)),
  repositoryId: v.optional(ResourceId),
  type: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(100))),
  /** `CWE-89` or `89`; answered as `CWE-89`. */
  cwe: v.optional(v.pipe(v.string(), v.regex(/^(?:[Cc][Ww][Ee]-)?\d{1,5}$/, 'Must be a CWE id such as CWE-89'), v.transform((s) => `CWE-${s.replace(/^CWE-/i, '')}`))),
});

export const VulnerabilityStatusBody = v.strictObject({
  status: v.picklist(VULNERABILITY_STATUS),
  /** Why; required when marking a false positive or ignoring. */
  reason: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(1000))),
});

/** The first seed's "Vulnerability Detail Response". */
export const VulnerabilityDetailSchema = v.object({
  id: v.string(),
  repositoryId: v.string(),
  type: v.string(),
  severity: v.picklist(SEVERITY),
  status: v.picklist(VULNERABILITY_STATUS),
  filePath: v.string(),
  lineNumber: v.number(),
  codeSnippet: v.string(),
  description: v.string(),
  explanation: v.nullable(v.string()),
  impact: v.nullable(v.string()),
  recommendation: v.nullable(v.string()),
  cweId: v.nullable(v.string()),
  owasp: v.nullable(v.string()),
  cvssScore: v.nullable(v.number()),
  autoFixAvailable: v.boolean(),
  fixConfidence: v.nullable(v.number()),
  fixPullRequest: v.nullable(
    v.object({ prNumber: v.number(), prUrl: v.string(), status: v.picklist(['created', 'merged', 'closed']), createdAt: Timestamp }),
  ),
  detectedAt: Timestamp,
  /** The latest fix attempt (detail only, once a fix was requested): its status and, when not proposed or failed, why. */
  fix: v.optional(
    v.object({
      fixId: v.string(),
      status: v.picklist(['queued', 'building', 'validating', 'opening', 'proposed', 'not_proposed', 'failed']),
      code: v.nullable(v.string()),
      reason: v.nullable(v.string()),
      confidence: v.nullable(v.number()),
      updatedAt: Timestamp,
    }),
  ),
});

export const VulnerabilityListResponse = v.object({ vulnerabilities: v.array(VulnerabilityDetailSchema), ...listEnvelope });

export const VulnerabilityStatusResponse = v.object({
  ...VulnerabilityDetailSchema.entries,
  auditTrail: v.array(
    v.object({
      id: v.string(),
      from: v.picklist(VULNERABILITY_STATUS),
      to: v.picklist(VULNERABILITY_STATUS),
      reason: v.nullable(v.string()),
      actor: v.picklist(['user', 'scan']),
      at: Timestamp,
    }),
  ),
});

export const vulnerabilityRoutes = [
  {
    method: 'GET', path: '/api/vulnerabilities', access: 'user', entry: 'lambdas/http/list-vulnerabilities.ts',
    summary: "The caller's vulnerabilities, filtered by severity, status, repository, type or CWE",
    schemas: { query: VulnerabilityListQuery, response: VulnerabilityListResponse },
  },
  {
    method: 'GET', path: '/api/vulnerabilities/{id}', access: 'user', entry: 'lambdas/http/get-vulnerability.ts',
    summary: 'One vulnerability with its fix pull request',
    schemas: { params: IdParams, response: VulnerabilityDetailSchema },
  },
  {
    method: 'PATCH', path: '/api/vulnerabilities/{id}/status', access: 'user', entry: 'lambdas/http/update-vulnerability-status.ts',
    summary: 'Mark a vulnerability fixed, a false positive, ignored or open again, with a reason kept in its audit trail',
    schemas: { params: IdParams, body: VulnerabilityStatusBody, response: VulnerabilityStatusResponse },
  },
] as const satisfies readonly RouteDecl[];
