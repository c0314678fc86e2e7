import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import type { PullRequestClosedEvent } from '@octokit/webhooks-types';
import { blobSha, type FakeGitHub, type FakeRepo, type FakeRequest, type FakeResponse } from './server.ts';

/**
 * The Git Data and pull request endpoints of the fake GitHub: blobs, trees (with `base_tree`), commits, refs
 * (create answers 422 "Reference already exists"; update refuses a non-fast-forward without `force`), and pull
 * requests (create, get, list by `head`/`state`, files). Tests merge or close a pull request with the helpers,
 * which answer the real `pull_request` closed webhook payload for it.
 */

const DOCS = 'https://docs.github.com/rest';
const notFound: FakeResponse = { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
const badCredentials: FakeResponse = { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS } };
const unprocessable = (message: string, errors?: unknown[]): FakeResponse => ({ status: 422, body: { message, errors, documentation_url: DOCS } });

export interface FakePull {
  readonly number: number;
  readonly id: number;
  title: string;
  body: string | null;
  /** Branch names in this repository. */
  readonly head: string;
  readonly base: string;
  /** The head commit when it was opened or last pushed. */
  headSha: string;
  baseSha: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergedAt: string | null;
  closedAt: string | null;
  mergeCommitSha: string | null;
  readonly createdAt: string;
  updatedAt: string;
}

export interface GitData {
  /** Pull requests of a repository, by number. */
  pulls(fullName: string): FakePull[];
  pull(fullName: string, number: number): FakePull;
  /** Files a pull request changes (head against the base it was opened on). */
  changedPaths(fullName: string, number: number): string[];
  /** Merge a pull request onto its base branch; answers the `pull_request` closed webhook payload (merged). */
  merge(fullName: string, number: number): PullRequestClosedEvent;
  /** Close a pull request without merging; answers the `pull_request` closed webhook payload (not merged). */
  close(fullName: string, number: number): PullRequestClosedEvent;
}

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as WebhookDefinition[];

function closedExample(): PullRequestClosedEvent {
  const definition = examples.find((d) => d.name === 'pull_request') as WebhookDefinition<'pull_request'> | undefined;
  const example = definition?.examples.find((e) => e.action === 'closed');
  if (!example) throw new Error('@octokit/webhooks-examples has no pull_request closed example');
  return structuredClone(example) as PullRequestClosedEvent;
}

/** Git's tree id scheme as the fake uses it: a hash over the sorted paths and their blob ids. */
function treeShaOf(tree: ReadonlyMap<string, Buffer>): string {
  const hash = createHash('sha1');
  for (const [path, content] of [...tree].sort(([a], [b]) => a.localeCompare(b))) hash.update(path).update(blobSha(content));
  return hash.digest('hex');
}

const isBranchName = (name: string) => /^[A-Za-z0-9._/-]{1,255}$/.test(name) && !name.includes('..') && !name.startsWith('/') && !name.endsWith('/');

/** Registers the endpoints on `gh` and returns the helpers. */
export function installGitData(gh: FakeGitHub): GitData {
  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, ReadonlyMap<string, Buffer>>();
  const pullsByRepo = new Map<string, Map<number, FakePull>>();
  let nextPullId = 1_500_000_000;

  const pullsOf = (repo: FakeRepo) => {
    let map = pullsByRepo.get(repo.fullName.toLowerCase());
    if (!map) pullsByRepo.set(repo.fullName.toLowerCase(), (map = new Map()));
    return map;
  };

  /** The repository of a `/repos/{o}/{r}/…` request the token may use, or the error answer. */
  const repoOf = (req: FakeRequest): FakeRepo | FakeResponse => {
    if (req.installationId === undefined) return req.asApp ? notFound : badCredentials;
    let repo: FakeRepo;
    try {
      repo = gh.repo(`${req.match[1]}/${req.match[2]}`);
    } catch {
      return notFound;
    }
    return repo.installationId === req.installationId ? repo : notFound;
  };
  const withRepo = (handler: (req: FakeRequest, repo: FakeRepo) => FakeResponse) => (req: FakeRequest) => {
    const repo = repoOf(req);
    return 'status' in repo ? repo : handler(req, repo);
  };

  const treeOfCommit = (repo: FakeRepo, sha: string) => repo.commits.get(sha)?.tree;
  /** A tree by id: one made through the API, or the tree of any commit of the repository. */
  const treeById = (repo: FakeRepo, sha: string): ReadonlyMap<string, Buffer> | undefined => {
    const made = trees.get(sha);
    if (made) return made;
    for (const commit of repo.commits.values()) if (treeShaOf(commit.tree) === sha) return commit.tree;
    return undefined;
  };

  const api = (repo: FakeRepo, rest: string) => `${gh.apiUrl}/repos/${repo.fullName}${rest}`;
  const treeJson = (repo: FakeRepo, sha: string, tree: ReadonlyMap<string, Buffer>) => ({
    sha,
    url: api(repo, `/git/trees/${sha}`),
    truncated: false,
    tree: [...tree].sort(([a], [b]) => a.localeCompare(b)).map(([path, content]) => ({
      path, mode: '100644', type: 'blob', sha: blobSha(content), size: content.length, url: api(repo, `/git/blobs/${blobSha(content)}`),
    })),
  });
  const gitCommitJson = (repo: FakeRepo, sha: string) => {
    const commit = repo.commits.get(sha);
    if (!commit) return undefined;
    const person = { name: 'CodeGuardian', email: 'codeguardian@example.com', date: commit.date };
    const treeSha = treeShaOf(commit.tree);
    return {
      sha, node_id: Buffer.from(`06:Commit${sha}`).toString('base64'), url: api(repo, `/git/commits/${sha}`), html_url: `${gh.baseUrl}/${repo.fullName}/commit/${sha}`,
      author: person, committer: person, message: commit.message,
      tree: { sha: treeSha, url: api(repo, `/git/trees/${treeSha}`) },
      parents: commit.parents.map((p) => ({ sha: p, url: api(repo, `/git/commits/${p}`), html_url: `${gh.baseUrl}/${repo.fullName}/commit/${p}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null },
    };
  };
  const branchJson = (repo: FakeRepo, branch: string, sha: string) => ({
    label: `${repo.owner}:${branch}`, ref: branch, sha, user: gh.accountJson(repo.owner), repo: gh.repositoryJson(repo),
  });
  const pullJson = (repo: FakeRepo, pr: FakePull) => {
    const html = `${gh.baseUrl}/${repo.fullName}/pull/${pr.number}`;
    return {
      url: api(repo, `/pulls/${pr.number}`), id: pr.id, node_id: Buffer.from(`011:PullRequest${pr.id}`).toString('base64'),
      html_url: html, diff_url: `${html}.diff`, patch_url: `${html}.patch`, issue_url: api(repo, `/issues/${pr.number}`),
      number: pr.number, state: pr.state, locked: false, title: pr.title, user: gh.accountJson('codeguardian-local[bot]'), body: pr.body,
      created_at: pr.createdAt, updated_at: pr.updatedAt, closed_at: pr.closedAt, merged_at: pr.mergedAt, merge_commit_sha: pr.mergeCommitSha,
      draft: false, merged: pr.merged, mergeable: pr.state === 'open' ? true : null, head: branchJson(repo, pr.head, pr.headSha), base: branchJson(repo, pr.base, pr.baseSha),
      commits: 1, additions: 0, deletions: 0, changed_files: changed(repo, pr).length,
    };
  };
  const changed = (repo: FakeRepo, pr: FakePull): string[] => {
    const before = treeOfCommit(repo, pr.baseSha) ?? new Map<string, Buffer>();
    const after = treeOfCommit(repo, pr.headSha) ?? new Map<string, Buffer>();
    const paths = new Set<string>();
    for (const [path, content] of after) if (!before.get(path)?.equals(content)) paths.add(path);
    for (const path of before.keys()) if (!after.has(path)) paths.add(path);
    return [...paths].sort();
  };

  const R = String.raw`^/repos/([^/]+)/([^/]+)`;

  gh.on('POST', new RegExp(`${R}/git/blobs$`), withRepo((req, repo) => {
    const body = req.body as { content?: unknown; encoding?: unknown } | undefined;
    if (typeof body?.content !== 'string') return unprocessable('Invalid request.\n\n"content" wasn\'t supplied.');
    const encoding = body.encoding ?? 'utf-8';
    if (encoding !== 'utf-8' && encoding !== 'base64') return unprocessable(`Invalid request.\n\nencoding ${String(encoding)} is not supported`);
    const content = Buffer.from(body.content, encoding === 'base64' ? 'base64' : 'utf8');
    const sha = blobSha(content);
    blobs.set(sha, content);
    return { status: 201, body: { sha, url: api(repo, `/git/blobs/${sha}`) } };
  }));

  gh.on('GET', new RegExp(`${R}/git/blobs/([0-9a-f]{40})$`), withRepo((req, repo) => {
    const sha = req.match[3] as string;
    let content = blobs.get(sha);
    if (!content) for (const commit of repo.commits.values()) for (const c of commit.tree.values()) if (blobSha(c) === sha) content = c;
    if (!content) return notFound;
    return { status: 200, body: { sha, node_id: '', size: content.length, url: api(repo, `/git/blobs/${sha}`), content: content.toString('base64'), encoding: 'base64' } };
  }));

  gh.on('POST', new RegExp(`${R}/git/trees$`), withRepo((req, repo) => {
    const body = req.body as { base_tree?: unknown; tree?: unknown } | undefined;
    if (!Array.isArray(body?.tree)) return unprocessable('Invalid request.\n\n"tree" wasn\'t supplied.');
    let tree = new Map<string, Buffer>();
    if (body.base_tree !== undefined) {
      const base = typeof body.base_tree === 'string' ? treeById(repo, body.base_tree) : undefined;
      if (!base) return unprocessable('base_tree is not a valid tree oid');
      tree = new Map(base);
    }
    for (const entry of body.tree as { path?: unknown; mode?: unknown; type?: unknown; sha?: unknown; content?: unknown }[]) {
      if (typeof entry.path !== 'string' || entry.path.startsWith('/') || entry.path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
        return unprocessable(`tree.path ${JSON.stringify(entry.path)} is invalid`);
      }
      if (entry.type !== 'blob' || !['100644', '100755'].includes(String(entry.mode))) return unprocessable('Only blob entries with mode 100644 or 100755 are supported by this fake');
      if (entry.sha === null) tree.delete(entry.path);
      else if (typeof entry.content === 'string') tree.set(entry.path, Buffer.from(entry.content, 'utf8'));
      else {
        const content = typeof entry.sha === 'string' ? blobs.get(entry.sha) : undefined;
        if (!content) return unprocessable(`tree.sha ${String(entry.sha)} is not a valid blob`);
        tree.set(entry.path, content);
      }
    }
    const sha = treeShaOf(tree);
    trees.set(sha, tree);
    return { status: 201, body: treeJson(repo, sha, tree) };
  }));

  gh.on('GET', new RegExp(`${R}/git/trees/([0-9a-f]{40})$`), withRepo((req, repo) => {
    const tree = treeById(repo, req.match[3] as string);
    return tree ? { status: 200, body: treeJson(repo, req.match[3] as string, tree) } : notFound;
  }));

  gh.on('POST', new RegExp(`${R}/git/commits$`), withRepo((req, repo) => {
    const body = req.body as { message?: unknown; tree?: unknown; parents?: unknown } | undefined;
    if (typeof body?.message !== 'string' || typeof body.tree !== 'string') return unprocessable('Invalid request.\n\n"message" and "tree" are required.');
    const tree = treeById(repo, body.tree);
    if (!tree) return unprocessable('Tree SHA does not exist');
    const parents = Array.isArray(body.parents) ? body.parents : [];
    if (parents.some((p) => typeof p !== 'string' || !repo.commits.has(p))) return unprocessable('Parent SHA does not exist or is not a commit object');
    const sha = repo.addCommit(tree, parents as string[], body.message);
    return { status: 201, body: gitCommitJson(repo, sha) };
  }));

  gh.on('GET', new RegExp(`${R}/git/commits/([0-9a-f]{7,40})$`), withRepo((req, repo) => {
    const commit = repo.resolve(req.match[3] as string);
    return commit ? { status: 200, body: gitCommitJson(repo, commit.sha) } : notFound;
  }));

  gh.on('POST', new RegExp(`${R}/git/refs$`), withRepo((req, repo) => {
    const body = req.body as { ref?: unknown; sha?: unknown } | undefined;
    if (typeof body?.ref !== 'string' || !/^refs\/[^/]+\/.+/.test(body.ref)) return unprocessable('Reference name must start with \'refs/\' and have at least two slashes.');
    if (typeof body.sha !== 'string' || !repo.commits.has(body.sha)) return unprocessable('Object does not exist');
    const name = body.ref.slice('refs/'.length);
    if (name.startsWith('heads/') && !isBranchName(name.slice('heads/'.length))) return unprocessable(`${body.ref} is not a valid ref name.`);
    if (repo.refs.has(name)) return unprocessable('Reference already exists');
    repo.refs.set(name, body.sha);
    return { status: 201, body: gh.refJson(repo, name, body.sha) };
  }));

  gh.on('PATCH', new RegExp(`${R}/git/refs/(.+)$`), withRepo((req, repo) => {
    const name = (req.match[3] as string).replace(/^refs\//, '');
    const body = req.body as { sha?: unknown; force?: unknown } | undefined;
    const current = repo.refs.get(name);
    if (!current) return unprocessable('Reference does not exist');
    if (typeof body?.sha !== 'string' || !repo.commits.has(body.sha)) return unprocessable('Object does not exist');
    if (body.force !== true && !isAncestor(repo, current, body.sha)) return unprocessable('Update is not a fast forward');
    repo.refs.set(name, body.sha);
    return { status: 200, body: gh.refJson(repo, name, body.sha) };
  }));

  gh.on('POST', new RegExp(`${R}/pulls$`), withRepo((req, repo) => {
    const body = req.body as { title?: unknown; head?: unknown; base?: unknown; body?: unknown } | undefined;
    if (typeof body?.title !== 'string' || typeof body.head !== 'string' || typeof body.base !== 'string') {
      return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'missing_field', field: 'title, head and base' }]);
    }
    const head = body.head.includes(':') ? body.head.split(':')[1] ?? '' : body.head;
    const headSha = repo.refs.get(`heads/${head}`);
    const baseSha = repo.refs.get(`heads/${body.base}`);
    if (!headSha) return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (!baseSha) return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    const pulls = pullsOf(repo);
    if ([...pulls.values()].some((p) => p.state === 'open' && p.head === head && p.base === body.base)) {
      return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${head}.` }]);
    }
    if (headSha === baseSha) return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${body.base} and ${head}` }]);
    const now = new Date().toISOString();
    const pr: FakePull = {
      number: pulls.size + 1, id: nextPullId++, title: body.title, body: typeof body.body === 'string' ? body.body : null, head, base: body.base,
      headSha, baseSha: mergeBase(repo, headSha, baseSha), state: 'open', merged: false, mergedAt: null, closedAt: null, mergeCommitSha: null, createdAt: now, updatedAt: now,
    };
    pulls.set(pr.number, pr);
    return { status: 201, body: pullJson(repo, pr) };
  }));

  gh.on('GET', new RegExp(`${R}/pulls$`), withRepo((req, repo) => {
    const state = req.query.get('state') ?? 'open';
    const headFilter = req.query.get('head');
    const list = [...pullsOf(repo).values()].filter((p) => {
      if (state !== 'all' && p.state !== state) return false;
      if (headFilter) {
        const [owner, branch] = headFilter.includes(':') ? headFilter.split(':') : [repo.owner, headFilter];
        if (owner?.toLowerCase() !== repo.owner.toLowerCase() || branch !== p.head) return false;
      }
      return true;
    });
    return { status: 200, body: list.map((p) => pullJson(repo, p)) };
  }));

  gh.on('GET', new RegExp(`${R}/pulls/(\\d+)$`), withRepo((req, repo) => {
    const pr = pullsOf(repo).get(Number(req.match[3]));
    return pr ? { status: 200, body: pullJson(repo, pr) } : notFound;
  }));

  gh.on('GET', new RegExp(`${R}/pulls/(\\d+)/files$`), withRepo((req, repo) => {
    const pr = pullsOf(repo).get(Number(req.match[3]));
    if (!pr) return notFound;
    return { status: 200, body: changed(repo, pr).map((filename) => ({ filename, status: 'modified', sha: blobSha(treeOfCommit(repo, pr.headSha)?.get(filename) ?? Buffer.alloc(0)) })) };
  }));

  const find = (fullName: string, number: number): { repo: FakeRepo; pr: FakePull } => {
    const repo = gh.repo(fullName);
    const pr = pullsOf(repo).get(number);
    if (!pr) throw new Error(`The fake GitHub has no pull request #${number} in ${fullName}`);
    return { repo, pr };
  };

  const closedPayload = (repo: FakeRepo, pr: FakePull): PullRequestClosedEvent => {
    const payload = closedExample();
    const json = pullJson(repo, pr) as Record<string, unknown>;
    Object.assign(payload.pull_request, json, { merged_by: pr.merged ? gh.accountJson('octo-maintainer') : null });
    Object.assign(payload, { number: pr.number, repository: gh.repositoryJson(repo), installation: { id: repo.installationId, node_id: Buffer.from(`023:Installation${repo.installationId}`).toString('base64') } });
    return payload;
  };

  return {
    pulls: (fullName) => [...pullsOf(gh.repo(fullName)).values()],
    pull: (fullName, number) => find(fullName, number).pr,
    changedPaths: (fullName, number) => {
      const { repo, pr } = find(fullName, number);
      return changed(repo, pr);
    },
    merge(fullName, number) {
      const { repo, pr } = find(fullName, number);
      if (pr.state !== 'open') throw new Error(`Pull request #${number} is not open`);
      const head = repo.commits.get(pr.headSha);
      const baseHead = repo.refs.get(`heads/${pr.base}`);
      if (!head || !baseHead) throw new Error(`Pull request #${number} has lost its branches`);
      const base = repo.commits.get(baseHead)?.tree ?? new Map<string, Buffer>();
      // A merge commit on the base: the base's files with the pull request's changes applied.
      const tree = new Map(base);
      for (const path of changed(repo, pr)) {
        const content = head.tree.get(path);
        if (content) tree.set(path, content);
        else tree.delete(path);
      }
      const now = new Date().toISOString();
      pr.mergeCommitSha = repo.addCommit(tree, [baseHead, pr.headSha], `Merge pull request #${number} from ${repo.owner}/${pr.head}`, pr.base);
      Object.assign(pr, { state: 'closed', merged: true, mergedAt: now, closedAt: now, updatedAt: now });
      return closedPayload(repo, pr);
    },
    close(fullName, number) {
      const { repo, pr } = find(fullName, number);
      if (pr.state !== 'open') throw new Error(`Pull request #${number} is not open`);
      const now = new Date().toISOString();
      Object.assign(pr, { state: 'closed', closedAt: now, updatedAt: now });
      return closedPayload(repo, pr);
    },
  };
}

/** Whether `ancestor` is reachable from `sha` along parents. */
function isAncestor(repo: FakeRepo, ancestor: string, sha: string): boolean {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (next === ancestor) return true;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(repo.commits.get(next)?.parents ?? []));
  }
  return false;
}

/** The nearest commit of `head`'s first-parent chain that `base` reaches. */
function mergeBase(repo: FakeRepo, head: string, base: string): string {
  for (let sha: string | undefined = head; sha; sha = repo.commits.get(sha)?.parents[0]) {
    if (isAncestor(repo, sha, base)) return sha;
  }
  return base;
}
