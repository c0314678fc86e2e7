import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import type { RouteDecl } from '../declarations.ts';

/** The answer to a verified delivery: 202 `queued`, or 200 `duplicate` for a redelivery of one already queued. */
export const WebhookAcceptedSchema = v.pipe(
  v.object({
    deliveryId: v.string(),
    event: v.string(),
    status: v.picklist(['queued', 'duplicate']),
  }),
  successStatus(202),
);

/** GitHub webhooks: authenticated by `X-Hub-Signature-256`, answered well inside GitHub's 10 s. */
export const webhookRoutes = [
  {
    method: 'POST', path: '/api/webhooks/github', access: 'github', entry: 'lambdas/http/receive-github-webhook.ts', timeoutSeconds: 10,
    summary: 'Receive a GitHub App webhook: 202 when queued, 200 for a redelivery, 401 INVALID_SIGNATURE',
    schemas: { response: WebhookAcceptedSchema },
  },
  {
    method: 'POST', path: '/api/webhooks/github/pr', access: 'github', entry: 'lambdas/http/receive-github-webhook-pr.ts', timeoutSeconds: 10,
    summary: 'Receive a pull_request webhook: 202 when queued, 200 for a redelivery, 401 INVALID_SIGNATURE',
    schemas: { response: WebhookAcceptedSchema },
  },
] as const satisfies readonly RouteDecl[];
