import { openFixPullRequests } from '../db/fix-pull-requests.ts';
import type { Repository } from '../db/repositories.ts';
import { logger } from '../runtime/powertools.ts';
import { branchRevision, git, resolveCommit } from './local-git.ts';
import { settleFixPullRequest } from './pull-requests.ts';

/**
 * A local repository has no pull requests and sends no webhooks, so its open fix branches are checked when they
 * matter (before limits are counted): a branch whose commit the default branch now contains was merged, a branch
 * that was deleted was declined. Either is settled exactly like the pull_request webhook settles a GitHub fix.
 */
export async function reconcileLocalFixBranches(repo: Pick<Repository, 'id' | 'userId' | 'provider' | 'localPath' | 'defaultBranch'>, now = new Date()): Promise<void> {
  if (repo.provider !== 'local' || !repo.localPath) return;
  const open = await openFixPullRequests(repo.id);
  if (open.length === 0) return;
  const path = repo.localPath;
  const target = await resolveCommit(path, branchRevision(repo.defaultBranch));
  for (const pr of open) {
    if (!pr.branch) continue;
    const head = await resolveCommit(path, `refs/heads/${pr.branch}`);
    let merged: boolean;
    if (!head) merged = false;
    else if (!target) continue;
    else {
      const { code } = await git(path, ['merge-base', '--is-ancestor', head, target], { okCodes: [1] });
      if (code !== 0) continue;
      merged = true;
    }
    logger.info('Local fix branch settled', { repositoryId: repo.id, branch: pr.branch, merged });
    await settleFixPullRequest(pr, repo, merged, now.toISOString());
  }
}
