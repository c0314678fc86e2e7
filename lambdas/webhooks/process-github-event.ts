import { queueConsumer } from '../../shared/http/presets.ts';
import { GithubEventSchema } from '../../shared/runtime/jobs.ts';
import { processGithubEvent } from '../../shared/webhooks/process.ts';

/** github-events consumer: act on a recorded webhook delivery (push and pull request scans, PR status, installations). */
export const handler = queueConsumer(GithubEventSchema, async (message) => {
  await processGithubEvent(message);
});
