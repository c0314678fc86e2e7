import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import type { PageRequest } from '../http/pagination.ts';
import { documentClient, getItem, isConditionFailure, queryAll, tableName, transactWrite, type Item } from './client.ts';
import { queryCount, queryFilled } from './bulk.ts';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const VULNERABILITY_STATUSES = ['open', 'fixed', 'false_positive', 'ignored'] as const;
export type VulnerabilityStatus = (typeof VULNERABILITY_STATUSES)[number];
export const REPOSITORY_SCAN_STATUSES = ['never', 'queued', 'scanning', 'completed', 'failed'] as const;
export type RepositoryScanStatus = (typeof REPOSITORY_SCAN_STATUSES)[number];

export type SeverityCounts = Record<Severity, number>;
/** Vulnerabilities of a repository by status, then severity. */
export type StatusCounts = Record<VulnerabilityStatus, SeverityCounts>;

export interface RepositorySettings {
  readonly autoScanEnabled: boolean;
  readonly autoFixEnabled: boolean;
  readonly scanBranches: readonly string[];
  /** Findings below this severity are not reported or fixed automatically. */
  readonly severityThreshold: Severity;
}

/** Counters recomputed from the repository's vulnerabilities whenever findings or statuses change. */
export interface RepositoryCounters {
  readonly totalVulnerabilities: number;
  readonly criticalCount: number;
  readonly highCount: number;
  readonly mediumCount: number;
  readonly lowCount: number;
  readonly infoCount: number;
  readonly securityScore: number;
  readonly counts: StatusCounts;
  /** Open critical and high findings older than the staleness threshold, at the last recomputation. */
  readonly staleHighOrCritical: number;
  readonly countersUpdatedAt: string;
}

export interface Repository extends RepositorySettings, RepositoryCounters {
  readonly id: string;
  readonly userId: string;
  readonly provider: 'github' | 'local';
  readonly name: string;
  readonly fullName: string;
  readonly owner: string;
  readonly private: boolean;
  readonly language: string | null;
  readonly defaultBranch: string;
  readonly githubRepoId?: number;
  readonly installationId?: number;
  /** Real path of a local repository (local stack only). */
  readonly localPath?: string;
  readonly scanStatus: RepositoryScanStatus;
  readonly lastScanAt: string | null;
  readonly lastScanId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const emptySeverityCounts = (): SeverityCounts => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0 });
export const emptyStatusCounts = (): StatusCounts => ({
  open: emptySeverityCounts(),
  fixed: emptySeverityCounts(),
  false_positive: emptySeverityCounts(),
  ignored: emptySeverityCounts(),
});

/** Key of a repository item. */
export const repositoryKey = (repositoryId: string) => ({ pk: `REPO#${repositoryId}`, sk: 'REPO' });

/** The source a repository is connected to, unique per user. */
export function sourceIdentity(repo: Pick<Repository, 'provider' | 'githubRepoId' | 'localPath'>): string {
  return repo.provider === 'github' ? `GHREPO#${repo.githubRepoId}` : `LOCALREPO#${repo.localPath}`;
}

const uniqueKey = (userId: string, source: string) => ({ pk: `UNIQUE#REPO#${userId}#${source}`, sk: 'UNIQUE' });

const AUTOSCAN_PK = 'AUTOSCAN#REPOS';

function repositoryItem(repo: Repository) {
  return {
    ...repositoryKey(repo.id),
    ...repo,
    entity: 'Repository',
    gsi1pk: `USER#${repo.userId}#REPOS`,
    gsi1sk: `${repo.createdAt}#${repo.id}`,
    gsi2pk: sourceIdentity(repo),
    gsi2sk: `REPO#${repo.id}`,
    // Sparse: only repositories with auto-scan on are in the nightly scan index.
    ...(repo.autoScanEnabled ? { gsi3pk: AUTOSCAN_PK, gsi3sk: repo.id } : {}),
  };
}

/** Connect a repository: the item and a per-user uniqueness guard in one transaction (409 when connected already). */
export async function createRepository(repo: Repository): Promise<void> {
  try {
    await transactWrite([
      { Put: { Item: { ...uniqueKey(repo.userId, sourceIdentity(repo)), repositoryId: repo.id, entity: 'RepositoryGuard' }, ConditionExpression: 'attribute_not_exists(pk)' } },
      { Put: { Item: repositoryItem(repo), ConditionExpression: 'attribute_not_exists(pk)' } },
    ]);
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') {
      throw new ConflictError(`${repo.fullName} is already connected`, 'REPOSITORY_ALREADY_CONNECTED');
    }
    throw error;
  }
}

/** A repository by id, whoever owns it (pipeline side). */
export async function findRepository(repositoryId: string): Promise<Item<Repository> | undefined> {
  return getItem<Repository>(repositoryKey(repositoryId));
}

/** A repository of `userId`; another user's id is answered exactly like a missing one. */
export async function getRepository(userId: string, repositoryId: string): Promise<Item<Repository>> {
  const repo = await findRepository(repositoryId);
  if (!repo || repo.userId !== userId) throw new NotFoundError('Repository not found');
  return repo;
}

/** What a list entry shows (the seed's Repository List entry): all a list page reads. */
export const REPOSITORY_LIST_ATTRIBUTES = [
  'id', 'name', 'fullName', 'owner', 'private', 'language', 'totalVulnerabilities', 'criticalCount', 'highCount', 'mediumCount', 'lowCount',
  'securityScore', 'scanStatus', 'lastScanAt', 'autoScanEnabled', 'autoFixEnabled',
] as const satisfies readonly (keyof Repository)[];
export type RepositoryListEntry = Pick<Repository, (typeof REPOSITORY_LIST_ATTRIBUTES)[number]>;

/** One page of a user's repositories, newest first (gsi1 `USER#<uid>#REPOS`), only the attributes an entry shows. */
export async function listRepositories(userId: string, request: PageRequest, skip: number) {
  const key = { index: 'gsi1', pk: `USER#${userId}#REPOS` } as const;
  const [page, total] = await Promise.all([
    queryFilled<RepositoryListEntry>({ ...key, attributes: REPOSITORY_LIST_ATTRIBUTES, descending: true, limit: request.limit, skip, cursor: request.cursor }),
    queryCount(key),
  ]);
  return { ...page, total };
}

/** Every repository of a user (dashboards, totals; users have tens, not thousands). */
export async function allRepositoriesOf(userId: string): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi1', pk: `USER#${userId}#REPOS` }, 10_000);
}

/** The status × severity counters of each of a user's repositories, only those attributes read (list totals). */
export async function repositoryCountsOf(userId: string): Promise<Pick<Repository, 'counts'>[]> {
  const items: Pick<Repository, 'counts'>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const answer = await documentClient.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `USER#${userId}#REPOS` },
        ProjectionExpression: 'counts',
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...((answer.Items ?? []) as Pick<Repository, 'counts'>[]));
    startKey = answer.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Repositories connected to one GitHub repository id, across users (webhook routing). */
export async function repositoriesByGithubId(githubRepoId: number): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi2', pk: `GHREPO#${githubRepoId}` });
}

/** Every repository with auto-scan on (nightly schedule): the sparse gsi3 `AUTOSCAN#REPOS`. */
export async function autoScanRepositories(): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi3', pk: AUTOSCAN_PK }, 100_000);
}

async function conditionalUpdate(repositoryId: string, set: Record<string, unknown>, remove: string[], condition: string, conditionValues: Record<string, unknown>) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...conditionValues };
  const assignments = Object.entries(set).map(([name, value], i) => {
    names[`#s${i}`] = name;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removals = remove.map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  const expression = [assignments.length ? `SET ${assignments.join(', ')}` : '', removals.length ? `REMOVE ${removals.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  const answer = await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: repositoryKey(repositoryId),
      UpdateExpression: expression,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return answer.Attributes as Item<Repository>;
}

/** Change a repository's settings; joining or leaving the nightly scan index with auto-scan. */
export async function updateRepositorySettings(userId: string, repositoryId: string, settings: Partial<RepositorySettings>): Promise<Item<Repository>> {
  const set: Record<string, unknown> = { updatedAt: new Date().toISOString() };
  for (const [name, value] of Object.entries(settings)) if (value !== undefined) set[name] = value;
  const remove: string[] = [];
  if (settings.autoScanEnabled === true) Object.assign(set, { gsi3pk: AUTOSCAN_PK, gsi3sk: repositoryId });
  if (settings.autoScanEnabled === false) remove.push('gsi3pk', 'gsi3sk');
  try {
    return await conditionalUpdate(repositoryId, set, remove, 'attribute_exists(pk) AND userId = :owner', { ':owner': userId });
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError('Repository not found');
    throw error;
  }
}

/** Record the state of the repository's latest scan. */
export async function updateRepositoryScanState(repositoryId: string, state: { scanStatus: RepositoryScanStatus; lastScanId?: string; lastScanAt?: string }): Promise<void> {
  try {
    await conditionalUpdate(repositoryId, { ...state, updatedAt: new Date().toISOString() }, [], 'attribute_exists(pk)', {});
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError('Repository not found');
    throw error;
  }
}

/** Write recomputed counters in one Update (a deleted repository is left deleted). */
export async function writeRepositoryCounters(repositoryId: string, counters: RepositoryCounters): Promise<void> {
  try {
    await conditionalUpdate(repositoryId, { ...counters }, [], 'attribute_exists(pk)', {});
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Remove the repository item and its uniqueness guard together (its other data is removed first). */
export async function deleteRepositoryItem(repo: Repository): Promise<void> {
  try {
    await transactWrite([
      { Delete: { Key: repositoryKey(repo.id), ConditionExpression: 'userId = :owner', ExpressionAttributeValues: { ':owner': repo.userId } } },
      { Delete: { Key: uniqueKey(repo.userId, sourceIdentity(repo)) } },
    ]);
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') throw new NotFoundError('Repository not found');
    throw error;
  }
}
