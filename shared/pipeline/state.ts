import * as v from 'valibot';
import { ScanStateSchema } from '../runtime/jobs.ts';

// The scan workflow's state as it grows from step to step; each step parses what the earlier ones added.

const Key = v.pipe(v.string(), v.minLength(1));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** After fetchSource: the archive and its manifest in the bucket, at the exact commit. */
export const FetchedStateSchema = v.looseObject({
  ...ScanStateSchema.entries,
  commitSha: v.pipe(v.string(), v.regex(/^[0-9a-f]{40,64}$/i, 'must be a full commit hash')),
  sourceKey: Key,
  manifestKey: Key,
  fileCount: Count,
});

const SeverityCount = Count;

/** After persist: the summary, and what finish needs. */
export const PersistedStateSchema = v.looseObject({
  ...FetchedStateSchema.entries,
  summary: v.object({
    critical: SeverityCount,
    high: SeverityCount,
    medium: SeverityCount,
    low: SeverityCount,
    info: SeverityCount,
    total: Count,
    new: Count,
    fixed: Count,
  }),
  persisted: v.boolean(),
  newFindingsKey: v.optional(Key),
  fixCandidates: v.array(v.string()),
});

/** After report: the report keys. */
export const ReportedStateSchema = v.looseObject({
  ...PersistedStateSchema.entries,
  reports: v.object({ json: v.optional(Key), sarif: v.optional(Key) }),
});

/** What Step Functions sends for a state machine execution that ended (EventBridge `Step Functions Execution Status Change`). */
export const ExecutionEndedSchema = v.looseObject({
  'detail-type': v.literal('Step Functions Execution Status Change'),
  detail: v.looseObject({
    executionArn: v.string(),
    status: v.picklist(['FAILED', 'TIMED_OUT', 'ABORTED']),
    input: v.nullish(v.string()),
    error: v.nullish(v.string()),
    cause: v.nullish(v.string()),
  }),
});
export type ExecutionEnded = v.InferOutput<typeof ExecutionEndedSchema>;
