import { setScanFields } from '../../shared/db/scan-progress.ts';
import { workflowStep } from '../../shared/http/presets.ts';
import { startScan } from '../../shared/pipeline/finish.ts';
import { percentOf, publishProgress, withHeartbeat } from '../../shared/pipeline/progress.ts';
import { fetchSource } from '../../shared/pipeline/source.ts';
import { ScanStateSchema } from '../../shared/runtime/jobs.ts';

/** Scan workflow step: mark the scan `scanning`, then fetch the repository at the commit into the bucket with its manifest. */
export const handler = workflowStep(ScanStateSchema, async (state) => {
  await startScan(state);
  const fetched = await withHeartbeat(state, 'fetchSource', () => 0.5, () => fetchSource(state));
  await setScanFields(state.scanId, { commitSha: fetched.commitSha });
  await publishProgress(state, 'fetchSource', percentOf('fetchSource', 1), { files: fetched.fileCount });
  return { ...state, ...fetched };
});
