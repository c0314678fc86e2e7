import { workflowStep } from '../../shared/http/presets.ts';
import { percentOf, publishProgress, withHeartbeat } from '../../shared/pipeline/progress.ts';
import { writeReports } from '../../shared/pipeline/report.ts';
import { PersistedStateSchema } from '../../shared/pipeline/state.ts';

/** Scan workflow step: write the JSON and SARIF reports to the bucket. */
export const handler = workflowStep(PersistedStateSchema, async (state) => {
  const reports = await withHeartbeat(state, 'report', () => 0.5, () => writeReports(state.scanId));
  await publishProgress(state, 'report', percentOf('report', 1));
  return { ...state, reports };
});
