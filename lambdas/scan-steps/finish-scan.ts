import { workflowStep } from '../../shared/http/presets.ts';
import { finishScan } from '../../shared/pipeline/finish.ts';
import { ReportedStateSchema } from '../../shared/pipeline/state.ts';

/** Scan workflow step: the scan `completed` with summary and duration, activity, `scan:completed`, auto-fixes. */
export const handler = workflowStep(ReportedStateSchema, async (state) => {
  const finished = await finishScan(state);
  return { scanId: state.scanId, status: 'completed' as const, summary: state.summary, ...finished };
});
