import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Fix branches in a connected local repository (local stack only): git plumbing on a temporary index, so the
// repository's working tree, its index and its current branch are never touched.

const FIX_AUTHOR = { name: 'CodeGuardian', email: 'codeguardian@localhost' };

export class GitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

interface GitOptions {
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  /** Exit codes that are answers, not failures (`rev-parse --verify -q` answers 1 for a missing ref). */
  readonly okCodes?: readonly number[];
}

/** Runs `git -C <repo> <args>` without a shell and returns its standard output. */
export function git(repo: string, args: readonly string[], options: GitOptions = {}): Promise<{ stdout: Buffer; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error) => reject(new GitError(`git could not be started: ${error.message}`, null)));
    child.on('close', (code) => {
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) resolve({ stdout: Buffer.concat(out), code: code ?? 0 });
      else reject(new GitError(`git ${args[0]} failed: ${Buffer.concat(err).toString('utf8').trim().slice(0, 500)}`, code));
    });
    if (child.stdin) {
      // A command that exits before reading all of its input closes the pipe; its exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

const text = (b: Buffer) => b.toString('utf8').trim();

/** A path inside a repository as git stores it: relative, `/`-separated, no `.`/`..` segments. */
export function isSafeRepoPath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && part.toLowerCase() !== '.git');
}

/** The commit a branch (or any revision) points at, or undefined. */
export async function resolveCommit(repo: string, revision: string): Promise<string | undefined> {
  if (revision.startsWith('-')) return undefined;
  const { stdout, code } = await git(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], { okCodes: [1] });
  return code === 0 ? text(stdout) : undefined;
}

/** The revision of a branch name; `HEAD` (a local repository's default) is the checked-out branch. */
export function branchRevision(branch: string): string {
  return branch === 'HEAD' ? 'HEAD' : `refs/heads/${branch}`;
}

/**
 * Whether `target` contains the one-commit fix `fixCommit` (changing `path`): as an ancestor (fast-forward or
 * merge commit); as an equivalent change, the way squash merges, rebases and cherry-picks land it (`git cherry`
 * matches patch ids, so a new message or author does not matter); or with `path` at `target` exactly as the fix
 * left it (a squash that also resolved a conflict elsewhere).
 */
export async function fixLandedIn(repo: string, fixCommit: string, target: string, path?: string): Promise<boolean> {
  const { code } = await git(repo, ['merge-base', '--is-ancestor', fixCommit, target], { okCodes: [1] });
  if (code === 0) return true;
  const { stdout } = await git(repo, ['cherry', target, fixCommit, `${fixCommit}^`]);
  if (text(stdout).split('\n').some((line) => line.startsWith('- '))) return true;
  if (!path) return false;
  const [fixed, current] = await Promise.all([readFileAtCommit(repo, fixCommit, path), readFileAtCommit(repo, target, path)]);
  return fixed !== undefined && current !== undefined && fixed.equals(current);
}

/** A file's content at a commit, or undefined when it is not a regular file there. */
export async function readFileAtCommit(repo: string, commit: string, path: string): Promise<Buffer | undefined> {
  if (!isSafeRepoPath(path)) return undefined;
  const entry = await treeEntry(repo, commit, path);
  if (!entry || entry.type !== 'blob' || !/^100(644|755)$/.test(entry.mode)) return undefined;
  return (await git(repo, ['cat-file', 'blob', entry.sha])).stdout;
}

async function treeEntry(repo: string, commit: string, path: string): Promise<{ mode: string; type: string; sha: string } | undefined> {
  const { stdout } = await git(repo, ['ls-tree', '-z', '--full-tree', commit, '--', path]);
  const line = stdout.toString('utf8').split('\0')[0];
  const match = /^(\d+) (\w+) ([0-9a-f]+)\t/.exec(line ?? '');
  return match ? { mode: match[1] as string, type: match[2] as string, sha: match[3] as string } : undefined;
}

export interface LocalFixCommit {
  readonly repo: string;
  readonly baseSha: string;
  readonly branch: string;
  readonly path: string;
  readonly content: string;
  readonly message: string;
  /** Author and committer date; a retry with the same date makes the same commit. */
  readonly date: string;
}

/**
 * One commit on `baseSha` that changes only `path`, on `refs/heads/<branch>`. The ref is created, or moved with a
 * compare-and-swap when the branch already exists; when it already points at the same commit nothing changes.
 */
export async function commitFixBranch(input: LocalFixCommit): Promise<{ headSha: string; reused: boolean }> {
  const { repo } = input;
  if (!isSafeRepoPath(input.path)) throw new GitError(`Refusing the path ${JSON.stringify(input.path)}`, null);
  const base = await resolveCommit(repo, input.baseSha);
  if (!base) throw new GitError(`The commit ${input.baseSha} is not in the repository`, null);
  const entry = await treeEntry(repo, base, input.path);
  if (!entry || entry.type !== 'blob') throw new GitError(`${input.path} is not a file at ${base.slice(0, 12)}`, null);

  const dir = await mkdtemp(join(tmpdir(), 'codeguardian-fix-'));
  try {
    const env = {
      GIT_INDEX_FILE: join(dir, 'index'),
      GIT_AUTHOR_NAME: FIX_AUTHOR.name,
      GIT_AUTHOR_EMAIL: FIX_AUTHOR.email,
      GIT_AUTHOR_DATE: input.date,
      GIT_COMMITTER_NAME: FIX_AUTHOR.name,
      GIT_COMMITTER_EMAIL: FIX_AUTHOR.email,
      GIT_COMMITTER_DATE: input.date,
    };
    await git(repo, ['read-tree', base], { env });
    const blob = text((await git(repo, ['hash-object', '-w', '--no-filters', '--stdin'], { input: Buffer.from(input.content, 'utf8') })).stdout);
    await git(repo, ['update-index', '--cacheinfo', `${entry.mode},${blob},${input.path}`], { env });
    const tree = text((await git(repo, ['write-tree'], { env })).stdout);
    const commit = text((await git(repo, ['commit-tree', tree, '-p', base, '-F', '-'], { env, input: input.message })).stdout);
    const ref = `refs/heads/${input.branch}`;
    const current = await resolveCommit(repo, ref);
    if (current === commit) return { headSha: commit, reused: true };
    // The old value makes the update a compare-and-swap: an empty one means the branch must not exist yet.
    await git(repo, ['update-ref', '-m', 'codeguardian: security fix', ref, commit, current ?? '']);
    return { headSha: commit, reused: false };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
