import { queueConsumer } from '../../shared/http/presets.ts';
import { GithubEventSchema } from '../../shared/runtime/jobs.ts';
import { pendingJob } from '../../shared/runtime/pending-work.ts';

/** github-events consumer: act on a recorded webhook delivery (push and pull request scans, PR status). */
export const handler = queueConsumer(GithubEventSchema, () => pendingJob('ProcessGithubEvent'));
