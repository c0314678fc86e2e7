import { workflowStep } from '../../shared/http/presets.ts';
import { analyzeShard } from '../../shared/pipeline/analyze.ts';
import { ShardSchema } from '../../shared/runtime/jobs.ts';

/** Scan workflow step (one per shard): extract and analyse the shard's files; results to the cache and the findings store. */
export const handler = workflowStep(ShardSchema, (shard) => analyzeShard(shard));
