import { scheduledJob } from '../../shared/http/presets.ts';
import { scheduleNightlyScans } from '../../shared/jobs/nightly.ts';

/** Schedule: queue a scan of every repository with auto-scan on. Fails (and is retried) when some could not be queued. */
export const handler = scheduledJob(async (event) => {
  const result = await scheduleNightlyScans(event.id);
  if (result.failed > 0) throw new Error(`${result.failed} nightly scans could not be queued; ${result.queued} were`);
  return result;
});
