import type { Octokit } from '@octokit/core';
import { statusOf } from '../github/client.ts';

// Fix pull requests on GitHub through the Git Data API only (no git binary): blob → tree on the base commit's
// tree → commit with one parent → branch ref → pull request. Every step can be repeated: an existing open pull
// request of the branch is reused, an existing branch is moved to the new commit.

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export function repoRefOf(fullName: string): RepoRef {
  const [owner, repo, ...rest] = fullName.split('/');
  if (!owner || !repo || rest.length > 0) throw new TypeError(`Not an owner/name repository name: ${fullName}`);
  return { owner, repo };
}

/** The commit a branch points at, or undefined when there is no such branch. */
export async function branchHead(octokit: Octokit, ref: RepoRef, branch: string): Promise<string | undefined> {
  try {
    const answer = await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { ...ref, ref: `heads/${branch}` });
    return answer.data.object.sha;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** A file's bytes at a commit (contents API; the blob API for files too large for it), or undefined when absent. */
export async function readGithubFile(octokit: Octokit, ref: RepoRef, commit: string, path: string): Promise<Buffer | undefined> {
  let data: unknown;
  try {
    data = (await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { ...ref, path, ref: commit })).data;
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
  if (Array.isArray(data) || typeof data !== 'object' || data === null) return undefined;
  const file = data as { type?: string; encoding?: string; content?: string; sha?: string };
  if (file.type !== 'file') return undefined;
  if (file.encoding === 'base64' && typeof file.content === 'string') return Buffer.from(file.content, 'base64');
  if (!file.sha) return undefined;
  const blob = await octokit.request('GET /repos/{owner}/{repo}/git/blobs/{file_sha}', { ...ref, file_sha: file.sha });
  return Buffer.from(blob.data.content, blob.data.encoding === 'base64' ? 'base64' : 'utf8');
}

export interface GithubFixChange {
  readonly baseSha: string;
  /** The pull request's target branch. */
  readonly baseBranch: string;
  readonly branch: string;
  readonly path: string;
  readonly content: string;
  readonly commitMessage: string;
  readonly title: string;
  readonly body: string;
}

export interface OpenedPullRequest {
  readonly number: number;
  readonly url: string;
  readonly headSha: string;
  /** True when the pull request already existed (a repeated step). */
  readonly reused: boolean;
}

/** The file's mode in a tree, so an executable file stays executable (a truncated listing counts as a plain file). */
async function fileMode(octokit: Octokit, ref: RepoRef, treeSha: string, path: string): Promise<'100644' | '100755'> {
  const tree = await octokit.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { ...ref, tree_sha: treeSha, recursive: 'true' });
  return tree.data.tree.find((entry) => entry.path === path)?.mode === '100755' ? '100755' : '100644';
}

async function openPullOf(octokit: Octokit, ref: RepoRef, branch: string) {
  const answer = await octokit.request('GET /repos/{owner}/{repo}/pulls', { ...ref, head: `${ref.owner}:${branch}`, state: 'open', per_page: 10 });
  return answer.data.find((pr) => pr.head.ref === branch);
}

/** Commit the change on its own branch and open (or find) the pull request. */
export async function openGithubFixPullRequest(octokit: Octokit, ref: RepoRef, change: GithubFixChange): Promise<OpenedPullRequest> {
  const existing = await openPullOf(octokit, ref, change.branch);
  if (existing) return { number: existing.number, url: existing.html_url, headSha: existing.head.sha, reused: true };

  const base = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...ref, commit_sha: change.baseSha });
  const mode = await fileMode(octokit, ref, base.data.tree.sha, change.path);
  const blob = await octokit.request('POST /repos/{owner}/{repo}/git/blobs', { ...ref, content: Buffer.from(change.content, 'utf8').toString('base64'), encoding: 'base64' });
  const tree = await octokit.request('POST /repos/{owner}/{repo}/git/trees', {
    ...ref,
    base_tree: base.data.tree.sha,
    tree: [{ path: change.path, mode, type: 'blob', sha: blob.data.sha }],
  });
  const commit = await octokit.request('POST /repos/{owner}/{repo}/git/commits', { ...ref, message: change.commitMessage, tree: tree.data.sha, parents: [change.baseSha] });
  const headSha = commit.data.sha;
  try {
    await octokit.request('POST /repos/{owner}/{repo}/git/refs', { ...ref, ref: `refs/heads/${change.branch}`, sha: headSha });
  } catch (error) {
    // "Reference already exists": an earlier attempt made the branch; it gets this commit instead.
    if (statusOf(error) !== 422) throw error;
    await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', { ...ref, ref: `heads/${change.branch}`, sha: headSha, force: true });
  }
  try {
    const pr = await octokit.request('POST /repos/{owner}/{repo}/pulls', { ...ref, title: change.title, head: change.branch, base: change.baseBranch, body: change.body });
    return { number: pr.data.number, url: pr.data.html_url, headSha, reused: false };
  } catch (error) {
    if (statusOf(error) !== 422) throw error;
    const raced = await openPullOf(octokit, ref, change.branch);
    if (!raced) throw error;
    return { number: raced.number, url: raced.html_url, headSha: raced.head.sha, reused: true };
  }
}
