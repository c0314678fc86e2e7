import { ENV } from '../../shared/platform/declarations.ts';
import { queueConsumer } from '../../shared/http/presets.ts';
import { requireEnv } from '../../shared/runtime/env.ts';
import { FixJobSchema, startJobExecution } from '../../shared/runtime/jobs.ts';

/** fix-generation consumer: one fix workflow execution per fix job, named after it so a redelivery starts nothing new. */
export const handler = queueConsumer(FixJobSchema, async (job) => {
  await startJobExecution(requireEnv(ENV.fixWorkflowArn), `fix-${job.fixId}`, job);
});
