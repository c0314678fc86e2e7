import { recordActivity } from '../db/activity.ts';
import { closeFixPullRequest, findFixPullRequest, type FixPullRequest } from '../db/fix-pull-requests.ts';
import { findRepository, type Repository } from '../db/repositories.ts';
import { recordTrendSnapshot } from '../db/trends.ts';
import { changeVulnerabilityStatus, getVulnerability, recomputeRepositoryCounters } from '../db/vulnerabilities.ts';
import { NotFoundError } from '../http/errors.ts';
import { publishToUser } from '../realtime/publish.ts';
import { logger } from '../runtime/powertools.ts';

// What happens to a fix pull request after it was opened: GitHub's pull_request `closed` webhook says whether
// it was merged (the vulnerability is fixed) or closed without merging (the fix was declined).

const FIX_BRANCH_PREFIX = 'codeguardian-fix-';

/** The branch a vulnerability's fix is proposed on. */
export function fixBranchName(vulnerabilityId: string): string {
  return `${FIX_BRANCH_PREFIX}${vulnerabilityId}`;
}

/** The vulnerability id a fix branch names, or undefined for any other branch. */
export function vulnerabilityIdOfBranch(branch: string): string | undefined {
  if (!branch.startsWith(FIX_BRANCH_PREFIX)) return undefined;
  const id = branch.slice(FIX_BRANCH_PREFIX.length);
  return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : undefined;
}

/** The parts of GitHub's `pull_request` webhook payload this needs. */
export interface ClosedPullRequestPayload {
  readonly repository: { readonly id: number; readonly full_name: string };
  readonly installation?: { readonly id: number };
  readonly pull_request: {
    readonly number: number;
    readonly merged: boolean;
    readonly merged_at: string | null;
    readonly closed_at?: string | null;
    readonly head: { readonly ref: string };
    readonly html_url: string;
  };
}

/** `data` of the `pr:merged` and `pr:closed` events. */
export interface PullRequestEventData {
  readonly vulnId: string;
  readonly repositoryId: string;
  readonly prNumber: number;
  readonly prUrl: string;
}

/**
 * A fix pull request was closed. Merged: the pull request record becomes `merged`, the vulnerability `fixed`
 * (with an audit entry, counters and trend refreshed) and the owner gets `pr:merged`. Closed without merging:
 * the record becomes `closed` (it keeps the fingerprint the fix was made for, so the same code is not proposed
 * again) and the owner gets `pr:closed`; the vulnerability stays open. Pull requests that are not one of our
 * fix pull requests in that repository are ignored, and a redelivery changes nothing.
 */
export async function handleClosedPullRequest(payload: ClosedPullRequestPayload): Promise<void> {
  const { pull_request: pull, repository } = payload;
  const vulnerabilityId = vulnerabilityIdOfBranch(pull.head.ref);
  if (!vulnerabilityId) return;
  const pr = await findFixPullRequest(vulnerabilityId, pull.number);
  const repo = pr ? await findRepository(pr.repositoryId) : undefined;
  if (!pr || !repo || repo.provider !== 'github' || repo.githubRepoId !== repository.id) {
    logger.info('Closed pull request is not a known fix pull request', { repository: repository.full_name, prNumber: pull.number });
    return;
  }
  const merged = pull.merged === true;
  await settleFixPullRequest(pr, repo, merged, (merged ? pull.merged_at : pull.closed_at) ?? new Date().toISOString());
}

/**
 * Record that a fix pull request (or a local fix branch) was merged or closed, with its consequences: merged →
 * the vulnerability `fixed` (audit entry, counters, trend, activity) and `pr:merged`; closed → `pr:closed`.
 * Repeating it changes nothing and sends nothing.
 */
export async function settleFixPullRequest(pr: FixPullRequest, repo: Pick<Repository, 'id' | 'userId'>, merged: boolean, at: string): Promise<void> {
  let vulnerability;
  try {
    vulnerability = await getVulnerability(repo.userId, pr.vulnerabilityId);
  } catch (error) {
    if (error instanceof NotFoundError) return;
    throw error;
  }
  const transitioned = await closeFixPullRequest(pr, merged ? 'merged' : 'closed', at);
  const data: PullRequestEventData = { vulnId: pr.vulnerabilityId, repositoryId: repo.id, prNumber: pr.prNumber, prUrl: pr.prUrl };

  if (!merged) {
    if (transitioned) await publishToUser(repo.userId, 'pr:closed', data);
    return;
  }
  let statusChanged = false;
  if (vulnerability.status === 'open') {
    const reason = pr.prNumber > 0 ? `Fix pull request #${pr.prNumber} merged` : `Fix branch ${pr.branch ?? fixBranchName(pr.vulnerabilityId)} merged`;
    await changeVulnerabilityStatus(vulnerability, 'fixed', reason);
    statusChanged = true;
    await recomputeRepositoryCounters(repo.id);
    await recordTrendSnapshot(repo.userId);
    await recordActivity(repo.userId, {
      type: 'vulnerability_status_changed',
      message: `${vulnerability.type} in ${vulnerability.filePath} fixed: ${reason.toLowerCase()}`,
      repositoryId: repo.id,
      vulnerabilityId: pr.vulnerabilityId,
      data: { from: 'open', to: 'fixed', reason, prUrl: pr.prUrl },
    });
  }
  if (transitioned || statusChanged) await publishToUser(repo.userId, 'pr:merged', data);
}
