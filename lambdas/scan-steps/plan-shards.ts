import { workflowStep } from '../../shared/http/presets.ts';
import { planShards } from '../../shared/pipeline/plan.ts';
import { percentOf, publishProgress } from '../../shared/pipeline/progress.ts';
import { FetchedStateSchema } from '../../shared/pipeline/state.ts';

/** Scan workflow step: the files to analyse, the cached ones, and the shards for the Map state. */
export const handler = workflowStep(FetchedStateSchema, async (state) => {
  const plan = await planShards(state);
  await publishProgress(state, 'planShards', percentOf('planShards', 1), { filesTotal: plan.filesTotal, filesCached: plan.filesCached, shards: plan.shards.length });
  return { ...state, ...plan };
});
