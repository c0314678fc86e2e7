import { requireSecret } from '../../../shared/runtime/env.ts';
import { pullRequestPayload, signedDelivery } from '../../support/webhook-payloads.ts';
import type { PreparedRequest, RouteFixtures } from '../api/support.ts';

// The webhook routes in the cross-route tests: deliveries signed with the stack's own webhook secret (the handlers
// run in the test process and read the same secrets), about a repository nobody connected, so they change nothing.

async function signed(event: string, payload: unknown): Promise<PreparedRequest> {
  const delivery = await signedDelivery(await requireSecret('GITHUB_WEBHOOK_SECRET'), event, payload);
  return { body: delivery.body, headers: delivery.headers, expectStatus: 202 };
}

const unconnected = { id: 1, owner: 'nobody', name: 'nothing', defaultBranch: 'main', installationId: 1 };

export const webhookRouteFixtures: RouteFixtures = {
  'POST /api/webhooks/github': { prepare: () => signed('ping', { zen: 'Non-blocking is better than blocking.', hook_id: 1 }) },
  'POST /api/webhooks/github/pr': {
    prepare: () => signed('pull_request', pullRequestPayload(unconnected, { action: 'opened', number: 1, headRef: 'feature', headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) })),
  },
};
