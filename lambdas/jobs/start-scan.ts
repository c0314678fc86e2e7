import { ENV } from '../../shared/platform/declarations.ts';
import { queueConsumer } from '../../shared/http/presets.ts';
import { requireEnv } from '../../shared/runtime/env.ts';
import { ScanJobSchema, startJobExecution } from '../../shared/runtime/jobs.ts';

/** scan-jobs consumer: one scan workflow execution per scan, named after it so a redelivery starts nothing new. */
export const handler = queueConsumer(ScanJobSchema, async (job) => {
  await startJobExecution(requireEnv(ENV.scanWorkflowArn), `scan-${job.scanId}`, job);
});
