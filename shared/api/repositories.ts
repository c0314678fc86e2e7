import { randomUUID } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { recordActivity } from '../db/activity.ts';
import {
  createRepository,
  deleteRepositoryItem,
  emptyStatusCounts,
  getRepository,
  listRepositories,
  updateRepositorySettings,
  type Repository,
  type RepositorySettings,
} from '../db/repositories.ts';
import { batchDelete } from '../db/bulk.ts';
import { scanKey } from '../db/jobs.ts';
import { scansOfRepository } from '../db/scans.ts';
import { recordTrendSnapshot } from '../db/trends.ts';
import { deleteVulnerabilitiesOfRepository, vulnerabilitiesOfRepository } from '../db/vulnerabilities.ts';
import { securityScore } from '../domain/scores.ts';
import { getUser, type User } from '../db/users.ts';
import { installationClient, statusOf } from '../github/client.ts';
import { BadRequestError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '../http/errors.ts';
import { listBody, offsetOf, pageRequest, type PaginationInput } from '../http/pagination.ts';
import { config } from '../runtime/env.ts';
import { logger } from '../runtime/powertools.ts';
import { installedRepository, type InstalledRepository } from './github-app.ts';
import { toRepositoryDetail, toRepositorySummary } from './mappers.ts';

const DEFAULT_SETTINGS: RepositorySettings = { autoScanEnabled: true, autoFixEnabled: false, scanBranches: [], severityThreshold: 'low' };

/** A repository item as connecting writes it: default settings, zero counters, never scanned. */
export function newRepository(userId: string, source: Omit<InstalledRepository, 'githubRepoId' | 'installationId'> & Partial<InstalledRepository> & { localPath?: string }): Repository {
  const now = new Date().toISOString();
  const counts = emptyStatusCounts();
  return {
    id: randomUUID(),
    userId,
    provider: source.localPath ? 'local' : 'github',
    name: source.name,
    fullName: source.fullName,
    owner: source.owner,
    private: source.private,
    language: source.language,
    defaultBranch: source.defaultBranch,
    githubRepoId: source.githubRepoId,
    installationId: source.installationId,
    localPath: source.localPath,
    ...DEFAULT_SETTINGS,
    scanBranches: [source.defaultBranch],
    totalVulnerabilities: 0,
    criticalCount: 0,
    highCount: 0,
    mediumCount: 0,
    lowCount: 0,
    infoCount: 0,
    securityScore: securityScore(counts.open),
    counts,
    staleHighOrCritical: 0,
    countersUpdatedAt: now,
    scanStatus: 'never',
    lastScanAt: null,
    lastScanId: null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Resolve `localPath` inside LOCAL_REPO_ROOT with symlinks followed: a path that leaves the root (lexically or
 * through a link) is refused, and the target must be a git working tree.
 */
export function resolveLocalRepository(localPath: string): { realPath: string; relativePath: string } {
  const { isLocal, localRepoRoot } = config();
  if (!isLocal) throw new BadRequestError('Local repositories can only be connected on the local stack', 'LOCAL_REPOSITORIES_DISABLED');
  if (!localRepoRoot) throw new BadRequestError('LOCAL_REPO_ROOT is not set, so no local repository can be connected', 'LOCAL_REPO_ROOT_NOT_SET');
  let root: string;
  try {
    root = realpathSync(localRepoRoot);
  } catch {
    throw new BadRequestError('LOCAL_REPO_ROOT does not exist', 'LOCAL_REPO_ROOT_NOT_SET');
  }
  const inside = (path: string) => {
    const rel = relative(root, path);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };
  const requested = resolve(root, localPath);
  if (!inside(requested)) throw new ForbiddenError('The path is outside LOCAL_REPO_ROOT', 'PATH_OUTSIDE_ROOT');
  let realPath: string;
  try {
    realPath = realpathSync(requested);
  } catch {
    throw new BadRequestError('The path does not exist', 'PATH_NOT_FOUND');
  }
  if (!inside(realPath)) throw new ForbiddenError('The path leaves LOCAL_REPO_ROOT through a symbolic link', 'PATH_OUTSIDE_ROOT');
  if (!statSync(realPath).isDirectory()) throw new BadRequestError('The path is not a directory', 'NOT_A_GIT_REPOSITORY');
  if (!existsSync(resolve(realPath, '.git'))) throw new BadRequestError('The path is not a git repository (no .git)', 'NOT_A_GIT_REPOSITORY');
  return { realPath, relativePath: relative(root, realPath).split(sep).join('/') || basename(realPath) };
}

interface GithubAccount {
  readonly id: number;
  readonly login: string;
}

/** The GitHub account linked to a user (GitHub sign-in or link), or 403 `GITHUB_NOT_LINKED`. */
function linkedGithubAccount(user: Pick<User, 'githubId' | 'githubLogin'>): GithubAccount {
  if (user.githubId === undefined || !user.githubLogin) {
    throw new ForbiddenError('Link your GitHub account (GitHub sign-in) before connecting a GitHub repository', 'GITHUB_NOT_LINKED');
  }
  return { id: user.githubId, login: user.githubLogin };
}

/** Repository permissions that let a GitHub account see a repository (`none` does not). */
const READ_PERMISSIONS = new Set(['read', 'triage', 'write', 'maintain', 'admin']);

/**
 * The caller's GitHub account must be able to see the repository: the App being installed on it is not enough.
 * Asked with the installation's token (which every installation may use for metadata): the collaborator
 * permission of the caller's linked login, which the owner, organisation members with access and outside
 * collaborators all have. The account id in the answer must be the linked one, so a login given up and taken by
 * someone else does not pass. A repository the caller cannot see answers 404 like one that does not exist.
 */
async function assertGithubAccess(account: GithubAccount, repo: InstalledRepository): Promise<void> {
  const notFound = () => new NotFoundError(`No GitHub repository ${repo.fullName} that your GitHub account can access`, 'REPOSITORY_NOT_FOUND');
  let answer: { permission?: string; user?: { id?: number | bigint } | null };
  try {
    const client = await installationClient(repo.installationId);
    answer = (await client.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { owner: repo.owner, repo: repo.name, username: account.login })).data;
  } catch (error) {
    if (statusOf(error) === 404) throw notFound();
    logger.warn('GitHub permission check failed', { status: statusOf(error), message: (error as Error).message });
    throw new ServiceUnavailableError('GitHub did not answer as expected; try again later', 'GITHUB_UNAVAILABLE');
  }
  if (!READ_PERMISSIONS.has(answer.permission ?? 'none') || Number(answer.user?.id) !== account.id) throw notFound();
}

export interface ConnectInput {
  readonly fullName?: string;
  readonly localPath?: string;
}

/**
 * Connect a GitHub repository the App is installed on and the caller's linked GitHub account can see (403
 * `GITHUB_NOT_LINKED` without a link, checked before GitHub is asked; 409 `APP_NOT_INSTALLED`; 404 when the
 * account cannot see it), or a local git repository on the local stack.
 */
export async function connectRepository(userId: string, input: ConnectInput) {
  if ((input.fullName === undefined) === (input.localPath === undefined)) {
    throw new ValidationError([{ path: 'body', message: 'Give exactly one of fullName or localPath' }]);
  }
  let repo: Repository;
  if (input.localPath !== undefined) {
    const { realPath, relativePath } = resolveLocalRepository(input.localPath);
    repo = newRepository(userId, {
      name: basename(realPath),
      fullName: `local/${relativePath}`,
      owner: 'local',
      private: true,
      language: null,
      defaultBranch: 'HEAD',
      localPath: realPath,
    });
  } else {
    const account = linkedGithubAccount(await getUser(userId));
    const installed = await installedRepository(input.fullName as string);
    await assertGithubAccess(account, installed);
    repo = newRepository(userId, installed);
  }
  await createRepository(repo);
  await recordActivity(userId, { type: 'repository_connected', message: `Connected ${repo.fullName}`, repositoryId: repo.id });
  return { status: 201, body: toRepositoryDetail(repo) };
}

/** `GET /repositories`: the seed's Repository List shape. */
export async function listRepositoriesOf(userId: string, query: PaginationInput) {
  const request = pageRequest(query);
  const page = await listRepositories(userId, request, offsetOf(request));
  return listBody('repositories', page.items.map(toRepositorySummary), request, page.total, page.nextCursor);
}

export async function repositoryDetail(userId: string, repositoryId: string) {
  return toRepositoryDetail(await getRepository(userId, repositoryId));
}

export async function changeRepositorySettings(userId: string, repositoryId: string, settings: Partial<RepositorySettings>) {
  if (Object.values(settings).every((value) => value === undefined)) {
    throw new ValidationError([{ path: 'body', message: 'Give at least one of autoScanEnabled, autoFixEnabled, scanBranches, severityThreshold' }]);
  }
  const repo = await updateRepositorySettings(userId, repositoryId, settings);
  await recordActivity(userId, { type: 'repository_settings_changed', message: `Changed the settings of ${repo.fullName}`, repositoryId, data: { ...settings } });
  return toRepositoryDetail(repo);
}

/**
 * Disconnect a repository: its vulnerabilities (with audit trails and fix pull request records) and scans are
 * deleted in batches, then the repository item, which also takes it out of the nightly scan index.
 */
export async function disconnectRepository(userId: string, repositoryId: string) {
  const repo = await getRepository(userId, repositoryId);
  const vulnerabilitiesRemoved = await deleteVulnerabilitiesOfRepository(repo.id);
  const scans = await scansOfRepository(repo.id);
  await batchDelete(scans.map((scan) => scanKey(scan.id)));
  await deleteRepositoryItem(repo);
  await recordTrendSnapshot(userId);
  await recordActivity(userId, { type: 'repository_deleted', message: `Disconnected ${repo.fullName}`, repositoryId: repo.id });
  return { id: repo.id, deleted: true as const, vulnerabilitiesRemoved, scansRemoved: scans.length };
}

/** `GET /repositories/:id/statistics`: counts by status, severity and type, and the scan record. */
export async function repositoryStatistics(userId: string, repositoryId: string) {
  const repo = await getRepository(userId, repositoryId);
  const [vulns, scans] = await Promise.all([vulnerabilitiesOfRepository(repo.id), scansOfRepository(repo.id)]);
  const byType = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const v of vulns) {
    if (v.status !== 'open') continue;
    byType.set(v.type, (byType.get(v.type) ?? 0) + 1);
    byFile.set(v.filePath, (byFile.get(v.filePath) ?? 0) + 1);
  }
  const top = (m: Map<string, number>, key: string) =>
    [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([name, count]) => ({ [key]: name, count }));
  const scanCounts = { total: scans.length, queued: 0, scanning: 0, completed: 0, failed: 0 };
  for (const s of scans) scanCounts[s.status] += 1;
  const byStatus = Object.fromEntries(Object.entries(repo.counts).map(([status, bySeverity]) => [status, Object.values(bySeverity).reduce((a, b) => a + b, 0)]));
  return {
    repositoryId: repo.id,
    securityScore: repo.securityScore,
    totalVulnerabilities: repo.totalVulnerabilities,
    openBySeverity: { ...repo.counts.open },
    byStatus,
    topTypes: top(byType, 'type'),
    topFiles: top(byFile, 'filePath'),
    scans: scanCounts,
    lastScanAt: repo.lastScanAt,
  };
}
