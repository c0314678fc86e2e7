import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import type { RouteDecl } from '../declarations.ts';
import { IdParams, ResourceId } from './repositories.ts';

/** Largest file content `POST /scan/fix` accepts (the fix workflow's own file limit). */
export const MAX_FIX_CONTENT_CHARS = 512 * 1024;

export const FixQueuedResponse = v.pipe(
  v.object({ fixId: v.string(), status: v.literal('queued'), vulnerabilityId: v.string() }),
  successStatus(202),
);

/** The second seed's fix request: one finding and the content of its file. */
export const CompatFixBody = v.object({
  scanId: v.optional(ResourceId),
  finding: v.object({
    file: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
    line: v.pipe(v.number(), v.integer(), v.minValue(1)),
    rule: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
    severity: v.optional(v.picklist(['critical', 'high', 'medium', 'low', 'info'])),
    message: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  }),
  fileContent: v.pipe(v.string(), v.maxLength(MAX_FIX_CONTENT_CHARS, `Must be at most ${MAX_FIX_CONTENT_CHARS} characters`)),
  context: v.optional(v.record(v.string(), v.unknown())),
});

export const CompatFixResponse = v.object({
  fixed: v.literal(true),
  /** Unified diff of the one file. */
  patch: v.string(),
  explanation: v.string(),
  confidence: v.number(),
  source: v.picklist(['rule', 'model']),
  validation: v.record(v.string(), v.unknown()),
});

export const fixRoutes = [
  {
    method: 'POST', path: '/api/vulnerabilities/{id}/fix', access: 'user', entry: 'lambdas/http/request-vulnerability-fix.ts',
    summary: 'Queue a validated fix pull request for an open vulnerability (409 when one is open, declined or in progress; 422 when no fix can be built)',
    schemas: { params: IdParams, response: FixQueuedResponse },
  },
  {
    method: 'POST', path: '/api/scan/fix', access: 'user', entry: 'lambdas/http/compat-scan-fix.ts', invokesModel: true,
    summary: 'Second-seed form: a validated fix of one finding in the given file content, as a unified diff (422 with the reason when none validates)',
    schemas: { body: CompatFixBody, response: CompatFixResponse },
  },
] as const satisfies readonly RouteDecl[];
