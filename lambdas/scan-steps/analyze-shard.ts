import { workflowStep } from '../../shared/http/presets.ts';
import { ShardSchema } from '../../shared/runtime/jobs.ts';
import { pendingScanStep } from '../../shared/runtime/pending-work.ts';

/** Scan workflow step: run the analyzers over one shard of files. */
export const handler = workflowStep(ShardSchema, () => pendingScanStep('analyzeShard'));
