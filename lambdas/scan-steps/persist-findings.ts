import { workflowStep } from '../../shared/http/presets.ts';
import { persistFindings } from '../../shared/pipeline/persist.ts';
import { percentOf, publishProgress, withHeartbeat } from '../../shared/pipeline/progress.ts';
import { FetchedStateSchema } from '../../shared/pipeline/state.ts';

/** Scan workflow step: store findings and diff them against the repository's (default branch) or compare (PR, branch). */
export const handler = workflowStep(FetchedStateSchema, async (state) => {
  // The shard lists and results have served their purpose; later steps get a small state.
  const { shards: _shards, shardResults: _results, ...rest } = state;
  const persisted = await withHeartbeat(state, 'persist', () => 0.5, () => persistFindings(state));
  await publishProgress(state, 'persist', percentOf('persist', 1));
  return { ...rest, ...persisted };
});
