import { githubWebhookRoute } from '../../shared/webhooks/route.ts';
import { receiveGithubWebhook } from '../../shared/webhooks/receive.ts';

/** POST /api/webhooks/github: every event of the GitHub App, verified, recorded and queued. */
export const handler = githubWebhookRoute((request) => receiveGithubWebhook(request));
