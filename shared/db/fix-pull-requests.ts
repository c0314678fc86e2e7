import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../http/errors.ts';
import { queryPage, transactWrite, type Item } from './client.ts';
import { queryCount } from './bulk.ts';
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
}

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
          Item: { pk: `VULN#${pr.vulnerabilityId}`, sk: `FIXPR#${pr.createdAt}#${pr.id}`, ...pr, entity: 'FixPullRequest', gsi1pk: `REPO#${pr.repositoryId}#FIXPRS`, gsi1sk: pr.createdAt },
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

/** How many fix pull requests a repository got since `since` (gsi1 `REPO#<repoId>#FIXPRS`, sort key ≥ since). */
export async function countFixPullRequestsSince(repositoryId: string, since: string): Promise<number> {
  return queryCount({ index: 'gsi1', pk: `REPO#${repositoryId}#FIXPRS`, skBetween: [since, '\uffff'] });
}
