import { scheduledJob } from '../../shared/http/presets.ts';
import { refreshRepositories } from '../../shared/jobs/refresh.ts';

/** Schedule: refresh GitHub metadata and recalculate security scores. Fails (and is retried) when some could not be refreshed. */
export const handler = scheduledJob(async () => {
  const result = await refreshRepositories();
  if (result.failed > 0) throw new Error(`${result.failed} repositories or installations could not be refreshed`);
  return result;
});
