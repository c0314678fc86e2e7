import { workflowStep } from '../../shared/http/presets.ts';
import { closeAbandonedScan } from '../../shared/pipeline/abandoned.ts';
import { ExecutionEndedSchema } from '../../shared/pipeline/state.ts';

/** EventBridge target for scan executions that ended FAILED, TIMED_OUT or ABORTED: a still-running scan is marked failed. */
export const handler = workflowStep(ExecutionEndedSchema, (event) => closeAbandonedScan(event));
