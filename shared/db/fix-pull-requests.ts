import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import { documentClient, getItem, isConditionFailure, queryAll, queryPage, tableName, transactWrite, updateItem, type Item } from './client.ts';
import { queryCount, queryFilled } from './bulk.ts';
import { fixKey } from './jobs.ts';
import { vulnerabilityKey } from './vulnerabilities.ts';

export const FIX_PR_STATUSES = ['created', 'merged', 'closed'] as const;
export type FixPullRequestStatus = (typeof FIX_PR_STATUSES)[number];

/** What the vulnerability detail shows of its fix pull request (first seed's `fixPullRequest`). */
export interface FixPullRequestSummary {
  readonly prNumber: number;
  readonly prUrl: string;
  readonly status: FixPullRequestStatus;
  readonly createdAt: string;
}

export interface FixPullRequest extends FixPullRequestSummary {
  readonly id: string;
  readonly vulnerabilityId: string;
  readonly repositoryId: string;
  /** `codeguardian-fix-<vulnId>`. */
  readonly branch?: string;
  /** The commit the fix was built on and the fix commit itself. */
  readonly baseSha?: string;
  readonly headSha?: string;
  readonly filePath?: string;
  /** The vulnerability's fingerprint when the fix was proposed: a declined fix is not proposed again for it. */
  readonly fingerprint?: string;
  readonly fixId?: string;
  readonly confidence?: number;
  readonly mergedAt?: string;
  readonly closedAt?: string;
}

const fixPrSk = (pr: Pick<FixPullRequest, 'createdAt' | 'id'>) => `FIXPR#${pr.createdAt}#${pr.id}`;

/**
 * Record a fix pull request (`VULN#<vulnId>` / `FIXPR#<createdAt>#<id>`, gsi1 `REPO#<repoId>#FIXPRS`) and set
 * its summary on the vulnerability in the same transaction.
 */
export async function recordFixPullRequest(input: Omit<FixPullRequest, 'id' | 'createdAt'>, now = new Date()): Promise<FixPullRequest> {
  const pr: FixPullRequest = { ...input, id: randomUUID(), createdAt: now.toISOString() };
  const summary: FixPullRequestSummary = { prNumber: pr.prNumber, prUrl: pr.prUrl, status: pr.status, createdAt: pr.createdAt };
  try {
    await transactWrite([
      {
        Put: {
          Item: { pk: `VULN#${pr.vulnerabilityId}`, sk: fixPrSk(pr), ...pr, entity: 'FixPullRequest', gsi1pk: `REPO#${pr.repositoryId}#FIXPRS`, gsi1sk: pr.createdAt },
        },
      },
      {
        Update: {
          Key: vulnerabilityKey(pr.vulnerabilityId),
          UpdateExpression: 'SET fixPullRequest = :pr, autoFixAvailable = :yes',
          ConditionExpression: 'attribute_exists(pk) AND repositoryId = :repo',
          ExpressionAttributeValues: { ':pr': summary, ':yes': true, ':repo': pr.repositoryId },
        },
      },
    ]);
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') throw new NotFoundError('Vulnerability not found');
    throw error;
  }
  return pr;
}

/** The newest fix pull request of a vulnerability. */
export async function latestFixPullRequest(vulnerabilityId: string): Promise<Item<FixPullRequest> | undefined> {
  const page = await queryPage<FixPullRequest>({ pk: `VULN#${vulnerabilityId}`, skBeginsWith: 'FIXPR#', descending: true, limit: 1 });
  return page.items[0];
}

/** The fix pull request of a vulnerability with this number (`VULN#<vulnId>`, `begins_with(sk, FIXPR#)`). */
export async function findFixPullRequest(vulnerabilityId: string, prNumber: number): Promise<Item<FixPullRequest> | undefined> {
  const all = await queryAll<FixPullRequest>({ pk: `VULN#${vulnerabilityId}`, skBeginsWith: 'FIXPR#' }, 1000);
  return all.find((pr) => pr.prNumber === prNumber);
}

/** How many fix pull requests a repository got since `since` (gsi1 `REPO#<repoId>#FIXPRS`, sort key ≥ since). */
export async function countFixPullRequestsSince(repositoryId: string, since: string): Promise<number> {
  return queryCount({ index: 'gsi1', pk: `REPO#${repositoryId}#FIXPRS`, skBetween: [since, '\uffff'] });
}

/** Whether the repository's index (gsi1 `REPO#<repoId>#FIXPRS`) lists `pr` yet: the index is eventually consistent. */
export async function isFixPullRequestIndexed(pr: Pick<FixPullRequest, 'repositoryId' | 'createdAt'>): Promise<boolean> {
  return (await queryCount({ index: 'gsi1', pk: `REPO#${pr.repositoryId}#FIXPRS`, skBetween: [pr.createdAt, pr.createdAt] })) > 0;
}

/** How many of a repository's fix pull requests are still open (gsi1 `REPO#<repoId>#FIXPRS`, filter status). */
export async function countOpenFixPullRequests(repositoryId: string): Promise<number> {
  return queryCount({
    index: 'gsi1',
    pk: `REPO#${repositoryId}#FIXPRS`,
    filter: { expression: '#f0 = :f0', names: { '#f0': 'status' }, values: { ':f0': 'created' } },
  });
}

/** A repository's fix pull requests that are still open (gsi1 `REPO#<repoId>#FIXPRS`, filter status), at most `max`. */
export async function openFixPullRequests(repositoryId: string, max = 100): Promise<FixPullRequest[]> {
  const page = await queryFilled<FixPullRequest>({
    index: 'gsi1',
    pk: `REPO#${repositoryId}#FIXPRS`,
    filter: { expression: '#f0 = :f0', names: { '#f0': 'status' }, values: { ':f0': 'created' } },
    limit: max,
  });
  return page.items;
}

/**
 * Move an open fix pull request to `merged` or `closed`, with the vulnerability's summary, in one transaction.
 * Returns false when it was not open any more (a redelivered webhook changes nothing).
 */
export async function closeFixPullRequest(pr: FixPullRequest, to: 'merged' | 'closed', at: string): Promise<boolean> {
  const summary: FixPullRequestSummary = { prNumber: pr.prNumber, prUrl: pr.prUrl, status: to, createdAt: pr.createdAt };
  try {
    await transactWrite([
      {
        Update: {
          Key: { pk: `VULN#${pr.vulnerabilityId}`, sk: fixPrSk(pr) },
          UpdateExpression: `SET #status = :to, ${to === 'merged' ? 'mergedAt' : 'closedAt'} = :at`,
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': to, ':at': at, ':open': 'created' },
        },
      },
      {
        Update: {
          Key: vulnerabilityKey(pr.vulnerabilityId),
          UpdateExpression: 'SET fixPullRequest = :pr',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':pr': summary },
        },
      },
    ]);
    return true;
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') return false;
    throw error;
  }
}

// ------------------------------------------------------------------------------------------- fix attempts

export const FIX_ATTEMPT_STATUSES = ['queued', 'building', 'validating', 'opening', 'proposed', 'not_proposed', 'failed'] as const;
export type FixAttemptStatus = (typeof FIX_ATTEMPT_STATUSES)[number];
const IN_FLIGHT: readonly FixAttemptStatus[] = ['queued', 'building', 'validating', 'opening'];
/** A fix attempt that has not moved for this long is taken as lost (its workflow timed out) and may be replaced. */
export const FIX_ATTEMPT_STALE_MS = 15 * 60_000;

/** The latest fix attempt of a vulnerability: what the vulnerability detail shows as `fix`. */
export interface FixAttempt {
  readonly fixId: string;
  readonly vulnerabilityId: string;
  readonly repositoryId: string;
  readonly userId: string;
  readonly status: FixAttemptStatus;
  /** Why the fix was not proposed or failed. */
  readonly reason: string | null;
  /** Machine-readable cause (`FINDING_REMAINS`, `OPEN_FIX_PR_LIMIT`, …). */
  readonly code: string | null;
  readonly source: 'rule' | 'model' | null;
  readonly confidence: number | null;
  readonly evidence: Readonly<Record<string, unknown>> | null;
  readonly requestedAt: string;
  readonly updatedAt: string;
}

/** The vulnerability's attempt item; it lives in the `VULN#<id>` partition, so deleting the vulnerability removes it. */
const attemptKey = (vulnerabilityId: string) => ({ pk: `VULN#${vulnerabilityId}`, sk: 'FIXATTEMPT' });
/** The fix job item of the workflow (`FIX#<fixId>` / `FIX`), which also carries the failure fields of shared/db/jobs.ts. */
const jobKey = fixKey;

/**
 * Start a fix attempt: the vulnerability's attempt item and the fix job item, in one transaction that fails with
 * 409 FIX_IN_PROGRESS while another attempt of the same vulnerability is still moving.
 */
export async function startFixAttempt(input: Pick<FixAttempt, 'fixId' | 'vulnerabilityId' | 'repositoryId' | 'userId'>, now = new Date()): Promise<FixAttempt> {
  const at = now.toISOString();
  const attempt: FixAttempt = { ...input, status: 'queued', reason: null, code: null, source: null, confidence: null, evidence: null, requestedAt: at, updatedAt: at };
  try {
    await transactWrite([
      {
        Put: {
          Item: { ...attemptKey(input.vulnerabilityId), ...attempt, entity: 'FixAttempt' },
          ConditionExpression: 'attribute_not_exists(pk) OR NOT (#status IN (:s0, :s1, :s2, :s3)) OR updatedAt < :stale',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ...Object.fromEntries(IN_FLIGHT.map((s, i) => [`:s${i}`, s])),
            ':stale': new Date(now.getTime() - FIX_ATTEMPT_STALE_MS).toISOString(),
          },
        },
      },
      { Put: { Item: { ...jobKey(input.fixId), ...attempt, entity: 'FixJob' }, ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') {
      throw new ConflictError('A fix for this vulnerability is already being prepared', 'FIX_IN_PROGRESS');
    }
    throw error;
  }
  return attempt;
}

/** Undo {@link startFixAttempt} when its job could not be queued, so nothing waits forever. */
export async function abandonFixAttempt(attempt: Pick<FixAttempt, 'fixId' | 'vulnerabilityId'>): Promise<void> {
  await Promise.all([
    documentClient.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: attemptKey(attempt.vulnerabilityId),
        ConditionExpression: 'fixId = :fix',
        ExpressionAttributeValues: { ':fix': attempt.fixId },
      }),
    ).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    }),
    documentClient.send(new DeleteCommand({ TableName: tableName(), Key: jobKey(attempt.fixId) })),
  ]);
}

export type FixAttemptUpdate = Partial<Pick<FixAttempt, 'status' | 'reason' | 'code' | 'source' | 'confidence' | 'evidence'>>;

/**
 * Record the progress or outcome of a fix attempt on its job item and, while it is still this vulnerability's
 * latest attempt, on the vulnerability's attempt item (a newer attempt is never overwritten by an older one).
 */
export async function updateFixAttempt(attempt: Pick<FixAttempt, 'fixId' | 'vulnerabilityId'>, update: FixAttemptUpdate, now = new Date()): Promise<void> {
  const set: Record<string, unknown> = { ...update, updatedAt: now.toISOString() };
  if (update.status === 'failed' || update.status === 'not_proposed') {
    set.failureReason = update.reason ?? null;
    set.failedAt = now.toISOString();
  }
  const entries = Object.entries(set).filter(([, value]) => value !== undefined);
  const names = Object.fromEntries(entries.map(([name], i) => [`#a${i}`, name]));
  const values = Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value]));
  const expression = `SET ${entries.map((_, i) => `#a${i} = :v${i}`).join(', ')}`;
  const write = (key: { pk: string; sk: string }, condition: string, extra: Record<string, unknown>) =>
    documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: expression,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ...extra },
      }),
    );
  await Promise.all(
    [
      write(jobKey(attempt.fixId), 'attribute_exists(pk)', {}),
      write(attemptKey(attempt.vulnerabilityId), 'fixId = :fix', { ':fix': attempt.fixId }),
    ].map((p) =>
      p.catch((error: unknown) => {
        if (!isConditionFailure(error)) throw error;
      }),
    ),
  );
}

/** The latest fix attempt of a vulnerability, if any. */
export async function latestFixAttempt(vulnerabilityId: string): Promise<Item<FixAttempt> | undefined> {
  return getItem<FixAttempt>(attemptKey(vulnerabilityId), { consistent: true });
}

/** A fix job by id (its current status and outcome). */
export async function getFixJob(fixId: string): Promise<Item<FixAttempt> | undefined> {
  return getItem<FixAttempt>(jobKey(fixId), { consistent: true });
}

/** The change a fix job built: kept gzipped on the fix job item between the workflow's steps. */
export interface FixChange {
  readonly path: string;
  readonly language: string;
  readonly baseSha: string;
  readonly baseBranch: string;
  readonly before: string;
  readonly after: string;
  readonly description: string;
  readonly source: 'rule' | 'model';
  readonly confidence: number;
  /** The finding as located in the file at the base commit (JSON). */
  readonly finding: string;
}

/** Largest gzipped change kept on the item (DynamoDB items hold 400 KB). */
export const MAX_STORED_CHANGE_BYTES = 350_000;

/** Store the built change on the fix job item; false when even gzipped it is too large to keep. */
export async function saveFixChange(fixId: string, change: FixChange): Promise<boolean> {
  const packed = gzipSync(Buffer.from(JSON.stringify(change), 'utf8'));
  if (packed.length > MAX_STORED_CHANGE_BYTES) return false;
  await updateItem(jobKey(fixId), { change: packed }, { ifExists: true });
  return true;
}

/** The change stored by {@link saveFixChange}; 404 when the job has none. */
export async function readFixChange(fixId: string): Promise<FixChange> {
  const item = await getItem<{ change?: Uint8Array }>(jobKey(fixId), { consistent: true });
  if (!item?.change) throw new NotFoundError(`Fix ${fixId} has no built change`, 'FIX_CHANGE_MISSING');
  return JSON.parse(gunzipSync(item.change).toString('utf8')) as FixChange;
}
