import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as v from 'valibot';
import { sfn } from './clients.ts';
import { logger, redactText } from './powertools.ts';

// Queue messages and workflow state: the contracts between producers, queue consumers and workflow steps.

/** Ids that also form Step Functions execution names (80 characters of [A-Za-z0-9-_]). */
export const JobId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, - or _'));

export const SCAN_TRIGGERS = ['push', 'pull_request', 'manual', 'bulk', 'scheduled'] as const;

/** A scan job on the scan-jobs queue, and the scan workflow's input. */
export const ScanJobSchema = v.object({
  scanId: JobId,
  repositoryId: v.pipe(v.string(), v.minLength(1)),
  userId: v.pipe(v.string(), v.minLength(1)),
  trigger: v.picklist(SCAN_TRIGGERS),
  branch: v.optional(v.pipe(v.string(), v.minLength(1))),
  commitSha: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{7,64}$/i, 'must be a commit hash'))),
  pullRequestNumber: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Pull request scans: the base commit, against which findings new in the pull request are told apart. */
  baseSha: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{7,64}$/i, 'must be a commit hash'))),
});
export type ScanJob = v.InferOutput<typeof ScanJobSchema>;

/** State passed between scan steps: the job plus whatever earlier steps added. */
export const ScanStateSchema = v.looseObject(ScanJobSchema.entries);
export type ScanState = v.InferOutput<typeof ScanStateSchema>;

/**
 * One shard of the files of a scan: the Map state's item and `analyzeShard`'s input. Its file list is an object
 * in the bucket (`filesKey`), so the state stays far below Step Functions' 256 KB whatever the repository's size.
 */
export const ShardSchema = v.looseObject({
  scanId: JobId,
  userId: v.pipe(v.string(), v.minLength(1)),
  repositoryId: v.pipe(v.string(), v.minLength(1)),
  shardIndex: v.pipe(v.number(), v.integer(), v.minValue(0)),
  shardCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
  sourceKey: v.pipe(v.string(), v.minLength(1)),
  filesKey: v.pipe(v.string(), v.minLength(1)),
  fileCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
});
export type Shard = v.InferOutput<typeof ShardSchema>;

/** A fix job on the fix-generation queue, and the fix workflow's input. */
export const FixJobSchema = v.object({
  fixId: JobId,
  vulnerabilityId: v.pipe(v.string(), v.minLength(1)),
  repositoryId: v.pipe(v.string(), v.minLength(1)),
  userId: v.pipe(v.string(), v.minLength(1)),
});
export type FixJob = v.InferOutput<typeof FixJobSchema>;
export const FixStateSchema = v.looseObject(FixJobSchema.entries);

/** What a workflow's Catch adds to the failed step's input. */
export const CaughtErrorSchema = v.object({
  error: v.looseObject({ Error: v.optional(v.string()), Cause: v.optional(v.string()) }),
});

/** A readable, redacted, bounded reason from a caught `{ Error, Cause }` (Lambda causes are JSON). */
export function failureReason(caught: { Error?: string; Cause?: string }): string {
  let reason = caught.Cause ?? caught.Error ?? 'Unknown error';
  try {
    const cause = JSON.parse(reason) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof cause.errorMessage === 'string') reason = cause.errorMessage;
  } catch {
    // a plain-text cause is the reason itself
  }
  const prefix = caught.Error && !reason.startsWith(caught.Error) ? `${caught.Error}: ` : '';
  return redactText(`${prefix}${reason}`).slice(0, 1000);
}

/**
 * Starts `workflow` for a job with the execution name `<kind>-<id>`, so a redelivered message never starts a
 * second run: Step Functions answers an identical request with the existing execution, and a name already used
 * (closed run or different input) is logged and treated as done.
 */
export async function startJobExecution(stateMachineArn: string, name: string, input: unknown): Promise<string> {
  try {
    const answer = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return answer.executionArn ?? name;
  } catch (error) {
    if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
    logger.info('Execution already started for this job', { executionName: name });
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}


/** A notification on the notifications queue (weekly report, scan summary) for one user and channel. */
export const NotificationSchema = v.object({
  userId: v.pipe(v.string(), v.minLength(1)),
  channel: v.picklist(['email', 'slack']),
  kind: v.picklist(['weekly-report', 'scan-completed', 'fix-applied']),
  data: v.optional(v.record(v.string(), v.unknown())),
});

/** A verified, recorded GitHub webhook delivery on the github-events queue. */
export const GithubEventSchema = v.object({
  deliveryId: v.pipe(v.string(), v.minLength(1)),
  event: v.pipe(v.string(), v.minLength(1)),
  action: v.optional(v.string()),
  installationId: v.optional(v.pipe(v.number(), v.integer())),
  /** Where the recorded payload is kept (table item or S3 key); payloads can exceed the queue's message size. */
  payloadRef: v.pipe(v.string(), v.minLength(1)),
});
