import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import type { PageRequest } from '../http/pagination.ts';
import { documentClient, getItem, isConditionFailure, queryAll, tableName, transactWrite, type Item, type TransactItem } from './client.ts';
import { queryFilled } from './bulk.ts';

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

/** A user's repositories in one item: how many, and their vulnerabilities by status and severity (list totals). */
export interface RepositorySummary {
  readonly repositories: number;
  readonly counts: StatusCounts;
}

const summaryKey = (userId: string) => ({ pk: `USER#${userId}#REPOSUMMARY`, sk: 'SUMMARY' });
const countAttribute = (status: VulnerabilityStatus, severity: Severity) => `${status}_${severity}`;

/**
 * The Update that carries a repository's change into its owner's summary: `ADD` of the differences between its
 * counts before and after (`undefined` = no repository), so changes to different repositories add up. Written in
 * the same transaction as the repository item, whose version condition makes `before` exact.
 */
function summaryChange(userId: string, before: StatusCounts | undefined, after: StatusCounts | undefined, repositories: number): TransactItem[] {
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  const adds: string[] = [];
  const add = (name: string, delta: number) => {
    if (delta === 0) return;
    names[`#n${adds.length}`] = name;
    values[`:d${adds.length}`] = delta;
    adds.push(`#n${adds.length} :d${adds.length}`);
  };
  add('repositories', repositories);
  for (const status of VULNERABILITY_STATUSES) {
    for (const severity of SEVERITIES) add(countAttribute(status, severity), (after?.[status]?.[severity] ?? 0) - (before?.[status]?.[severity] ?? 0));
  }
  if (adds.length === 0) return [];
  return [{ Update: { Key: summaryKey(userId), UpdateExpression: `ADD ${adds.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values } }];
}

/** A user's repository summary: one Get instead of reading every repository (list totals). */
export async function repositorySummaryOf(userId: string): Promise<RepositorySummary> {
  const item = await getItem<Record<string, unknown>>(summaryKey(userId), { consistent: true });
  const counts = emptyStatusCounts();
  for (const status of VULNERABILITY_STATUSES) {
    for (const severity of SEVERITIES) counts[status][severity] = Number(item?.[countAttribute(status, severity)] ?? 0);
  }
  return { repositories: Number(item?.repositories ?? 0), counts };
}

const MAX_TRANSACTION_ATTEMPTS = 8;

/** Why a transaction was cancelled, per item, or undefined when the error is something else. */
function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  return ((error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => (r.Code === 'None' ? undefined : r.Code));
}

/** Waits a little longer after each lost race on the summary item, with jitter so racers spread out. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** Math.min(attempt, 6)));

/** The repository item with its counters version (the condition that keeps the summary exact). */
type VersionedRepository = Item<Repository> & { readonly countersVersion?: number };

function versionCondition(current: VersionedRepository): { expression: string; values: Record<string, number> } {
  return current.countersVersion === undefined
    ? { expression: 'attribute_not_exists(countersVersion)', values: {} }
    : { expression: 'countersVersion = :version', values: { ':version': current.countersVersion } };
}

function repositoryItem(repo: Repository) {
  return {
    ...repositoryKey(repo.id),
    ...repo,
    entity: 'Repository',
    countersVersion: 0,
    gsi1pk: `USER#${repo.userId}#REPOS`,
    gsi1sk: `${repo.createdAt}#${repo.id}`,
    gsi2pk: sourceIdentity(repo),
    gsi2sk: `REPO#${repo.id}`,
    // Sparse: only repositories with auto-scan on are in the nightly scan index.
    ...(repo.autoScanEnabled ? { gsi3pk: AUTOSCAN_PK, gsi3sk: repo.id } : {}),
  };
}

/**
 * Connect a repository: the item, a per-user uniqueness guard (409 when connected already) and its place in the
 * owner's summary, in one transaction (retried when it loses a race on the summary item).
 */
export async function createRepository(repo: Repository): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await transactWrite([
        { Put: { Item: { ...uniqueKey(repo.userId, sourceIdentity(repo)), repositoryId: repo.id, entity: 'RepositoryGuard' }, ConditionExpression: 'attribute_not_exists(pk)' } },
        { Put: { Item: repositoryItem(repo), ConditionExpression: 'attribute_not_exists(pk)' } },
        ...summaryChange(repo.userId, undefined, repo.counts, 1),
      ]);
      return;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.includes('ConditionalCheckFailed')) throw new ConflictError(`${repo.fullName} is already connected`, 'REPOSITORY_ALREADY_CONNECTED');
      if (!codes || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      await backoff(attempt);
    }
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

/**
 * One page of a user's repositories, newest first (gsi1 `USER#<uid>#REPOS`), only the attributes an entry shows;
 * the total from the user's summary item.
 */
export async function listRepositories(userId: string, request: PageRequest, skip: number) {
  const key = { index: 'gsi1', pk: `USER#${userId}#REPOS` } as const;
  const [page, total] = await Promise.all([
    queryFilled<RepositoryListEntry>({ ...key, attributes: REPOSITORY_LIST_ATTRIBUTES, descending: true, limit: request.limit, skip, cursor: request.cursor }),
    repositorySummaryOf(userId),
  ]);
  return { ...page, total: total.repositories };
}

/** Every repository of a user (dashboards, totals; users have tens, not thousands). */
export async function allRepositoriesOf(userId: string): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi1', pk: `USER#${userId}#REPOS` }, 10_000);
}

/** Repositories connected to one GitHub repository id, across users (webhook routing). */
export async function repositoriesByGithubId(githubRepoId: number): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi2', pk: `GHREPO#${githubRepoId}` });
}

/** Every repository with auto-scan on (nightly schedule): the sparse gsi3 `AUTOSCAN#REPOS`. */
export async function autoScanRepositories(): Promise<Item<Repository>[]> {
  return queryAll<Repository>({ index: 'gsi3', pk: AUTOSCAN_PK }, 100_000);
}

/** `SET`/`REMOVE` of an Update, with its placeholders. */
function updateExpression(set: Record<string, unknown>, remove: readonly string[], values: Record<string, unknown> = {}) {
  const names: Record<string, string> = {};
  const all: Record<string, unknown> = { ...values };
  const assignments = Object.entries(set).map(([name, value], i) => {
    names[`#s${i}`] = name;
    all[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const removals = remove.map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  const expression = [assignments.length ? `SET ${assignments.join(', ')}` : '', removals.length ? `REMOVE ${removals.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { UpdateExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: all };
}

async function conditionalUpdate(repositoryId: string, set: Record<string, unknown>, remove: string[], condition: string, conditionValues: Record<string, unknown>) {
  const answer = await documentClient.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: repositoryKey(repositoryId),
      ...updateExpression(set, remove, conditionValues),
      ConditionExpression: condition,
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

/**
 * Write recomputed counters in one Update, with the difference to the previous ones added to the owner's summary
 * in the same transaction. The Update is conditioned on the counters version read just before, so the difference
 * is exact even when two recomputations race (the loser reads again). A deleted repository is left deleted.
 */
export async function writeRepositoryCounters(repositoryId: string, counters: RepositoryCounters): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await getItem<Repository & { countersVersion?: number }>(repositoryKey(repositoryId), { consistent: true });
    if (!current) return;
    const version = versionCondition(current);
    const update = updateExpression({ ...counters, countersVersion: (current.countersVersion ?? 0) + 1 }, [], version.values);
    try {
      await transactWrite([
        { Update: { Key: repositoryKey(repositoryId), ...update, ConditionExpression: `attribute_exists(pk) AND ${version.expression}` } },
        ...summaryChange(current.userId, current.counts, counters.counts, 0),
      ]);
      return;
    } catch (error) {
      if (!cancellationCodes(error) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Remove the repository item, its uniqueness guard and its part of the owner's summary together (its other data
 * is removed first); conditioned on the owner and the counters version read just before.
 */
export async function deleteRepositoryItem(repo: Repository): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await getItem<Repository & { countersVersion?: number }>(repositoryKey(repo.id), { consistent: true });
    if (!current || current.userId !== repo.userId) throw new NotFoundError('Repository not found');
    const version = versionCondition(current);
    try {
      await transactWrite([
        {
          Delete: {
            Key: repositoryKey(repo.id),
            ConditionExpression: `userId = :owner AND ${version.expression}`,
            ExpressionAttributeValues: { ':owner': repo.userId, ...version.values },
          },
        },
        { Delete: { Key: uniqueKey(repo.userId, sourceIdentity(repo)) } },
        ...summaryChange(repo.userId, current.counts, undefined, -1),
      ]);
      return;
    } catch (error) {
      if (!cancellationCodes(error) || attempt >= MAX_TRANSACTION_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}
