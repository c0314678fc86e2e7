import { scheduledJob } from '../../shared/http/presets.ts';
import { queueWeeklyReports } from '../../shared/jobs/weekly.ts';

/** Schedule: queue each user's weekly report on the notifications queue. Fails (and is retried) when some could not be queued. */
export const handler = scheduledJob(async (event) => {
  const result = await queueWeeklyReports(event.id);
  if (result.failed > 0) throw new Error(`${result.failed} weekly reports could not be queued; ${result.queued} were`);
  return result;
});
