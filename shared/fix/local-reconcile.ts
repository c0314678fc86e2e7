import { openFixPullRequests } from '../db/fix-pull-requests.ts';
import type { Repository } from '../db/repositories.ts';
import { logger } from '../runtime/powertools.ts';
import { branchRevision, fixLandedIn, resolveCommit } from './local-git.ts';
import { settleFixPullRequest } from './pull-requests.ts';

/**
 * A local repository has no pull requests and sends no webhooks, so its open fix branches are checked when they
 * matter (before limits are counted): a fix whose change the default branch now contains was merged (merged,
 * fast-forwarded, squashed, rebased or cherry-picked, whether or not its branch was deleted since); a branch
 * deleted without that was declined. Either is settled exactly like the pull_request webhook settles a GitHub fix.
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
    // The commit that was proposed, even if the branch moved on or was deleted: git keeps it until it prunes.
    const fixCommit = (pr.headSha ? await resolveCommit(path, pr.headSha) : undefined) ?? head;
    const merged = Boolean(target && fixCommit && (await fixLandedIn(path, fixCommit, target, pr.filePath)));
    if (!merged && head) continue;
    logger.info('Local fix branch settled', { repositoryId: repo.id, branch: pr.branch, merged });
    await settleFixPullRequest(pr, repo, merged, now.toISOString());
  }
}
