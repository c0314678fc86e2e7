import { githubWebhookRoute } from '../../shared/webhooks/route.ts';
import { receiveGithubWebhook } from '../../shared/webhooks/receive.ts';

/** POST /api/webhooks/github/pr: pull_request events only, same verification and redelivery rules. */
export const handler = githubWebhookRoute((request) => receiveGithubWebhook(request, { events: ['pull_request'] }));
