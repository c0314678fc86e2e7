import { workflowStep } from '../../shared/http/presets.ts';
import { triageScan } from '../../shared/llm/scan-triage.ts';
import { scanSources } from '../../shared/llm/scan-sources.ts';
import { readScanFindings, writeScanFindings } from '../../shared/pipeline/findings-store.ts';
import { percentOf, publishProgress, withHeartbeat } from '../../shared/pipeline/progress.ts';
import { FetchedStateSchema } from '../../shared/pipeline/state.ts';

/** Scan workflow step: the model pass (triage, discovery in changed code); without a model the findings pass through. */
export const handler = workflowStep(FetchedStateSchema, async (state) => {
  const pass = await withHeartbeat(state, 'triage', () => 0.5, () =>
    triageScan(state, { store: { read: readScanFindings, write: writeScanFindings }, sources: scanSources(state) }),
  );
  await publishProgress(state, 'triage', percentOf('triage', 1));
  return { ...state, modelPass: pass.status };
});
