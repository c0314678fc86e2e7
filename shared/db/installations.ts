import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deleteItem, documentClient, getItem, isConditionFailure, putItem, queryAll, tableName, type Item } from './client.ts';
import { repositoriesByGithubId, repositoryKey, type Repository } from './repositories.ts';

// Where the GitHub App is installed, from the `installation` and `installation_repositories` webhooks: one item
// per installation and one per repository it covers. Connected repository records are never deleted when the
// App loses access: they are marked, keeping the user's findings and history, and come back when access does.

export interface Installation {
  readonly installationId: number;
  readonly account: string;
  readonly accountType?: string;
  readonly repositorySelection?: string;
  readonly suspendedAt: string | null;
  readonly updatedAt: string;
}

export interface InstalledRepositoryRef {
  readonly githubRepoId: number;
  readonly fullName: string;
}

/** What a repository record carries while the App has no access to its GitHub repository. */
export interface RepositoryAccess {
  /** When the App lost access (uninstalled, or the repository removed from the installation). */
  readonly accessRemovedAt?: string;
  readonly accessRemovedReason?: 'installation_deleted' | 'repository_removed';
}

export const installationKey = (installationId: number) => ({ pk: `INSTALLATION#${installationId}`, sk: 'INSTALLATION' });
const installationRepoKey = (installationId: number, githubRepoId: number) => ({ pk: `INSTALLATION#${installationId}`, sk: `REPO#${githubRepoId}` });

/** Record (or refresh) an installation. */
export async function recordInstallation(installation: Installation): Promise<void> {
  await putItem({ ...installationKey(installation.installationId), ...installation, entity: 'Installation' });
}

/** An installation, if the App is installed there. */
export async function findInstallation(installationId: number): Promise<Item<Installation> | undefined> {
  return getItem<Installation>(installationKey(installationId));
}

/** Suspend (a time) or unsuspend (null) an installation; nothing for an unknown one. */
export async function setInstallationSuspended(installationId: number, suspendedAt: string | null): Promise<boolean> {
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: installationKey(installationId),
        UpdateExpression: 'SET suspendedAt = :s, updatedAt = :u',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':s': suspendedAt, ':u': new Date().toISOString() },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The repositories an installation covers (`INSTALLATION#<id>` / `REPO#…`). */
export async function installationRepositories(installationId: number): Promise<Item<InstalledRepositoryRef>[]> {
  return queryAll<InstalledRepositoryRef>({ pk: `INSTALLATION#${installationId}`, skBeginsWith: 'REPO#' }, 100_000);
}

export async function addInstallationRepositories(installationId: number, repos: readonly InstalledRepositoryRef[]): Promise<void> {
  for (const repo of repos) {
    await putItem({ ...installationRepoKey(installationId, repo.githubRepoId), ...repo, installationId, entity: 'InstallationRepository' });
  }
}

export async function removeInstallationRepositories(installationId: number, githubRepoIds: readonly number[]): Promise<void> {
  for (const id of githubRepoIds) await deleteItem(installationRepoKey(installationId, id));
}

/** Forget an installation and its repository list (the App was uninstalled). */
export async function forgetInstallation(installationId: number): Promise<void> {
  for (const repo of await installationRepositories(installationId)) await deleteItem(repo);
  await deleteItem(installationKey(installationId));
}

/**
 * Mark every connected record of a GitHub repository as having lost the App's access: scans of it are not
 * queued until access returns; its findings, scans and settings stay. Returns the records marked.
 */
export async function markRepositoryAccessRemoved(githubRepoId: number, reason: NonNullable<RepositoryAccess['accessRemovedReason']>, at = new Date()): Promise<Item<Repository>[]> {
  const records = await repositoriesByGithubId(githubRepoId);
  const marked: Item<Repository>[] = [];
  for (const record of records) {
    if ((record as RepositoryAccess).accessRemovedAt) continue;
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: repositoryKey(record.id),
          UpdateExpression: 'SET accessRemovedAt = :at, accessRemovedReason = :reason, updatedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':reason': reason },
        }),
      );
      marked.push(record);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  return marked;
}

/** The App has access again (reinstalled or repository re-added): clear the mark and take the new installation id. */
export async function markRepositoryAccessRestored(githubRepoId: number, installationId: number, at = new Date()): Promise<Item<Repository>[]> {
  const records = await repositoriesByGithubId(githubRepoId);
  const restored: Item<Repository>[] = [];
  for (const record of records) {
    if (!(record as RepositoryAccess).accessRemovedAt && record.installationId === installationId) continue;
    try {
      await documentClient.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: repositoryKey(record.id),
          UpdateExpression: 'SET installationId = :installation, updatedAt = :at REMOVE accessRemovedAt, accessRemovedReason',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':installation': installationId, ':at': at.toISOString() },
        }),
      );
      restored.push(record);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
  return restored;
}

/** Whether the App currently has access to a connected repository's GitHub source. */
export function hasRepositoryAccess(repo: Repository): boolean {
  return !(repo as Repository & RepositoryAccess).accessRemovedAt;
}

/** What GitHub says about a repository's source, copied onto each connected record of it. */
export type RepositorySource = Pick<Repository, 'name' | 'fullName' | 'owner' | 'private' | 'language' | 'defaultBranch'> & { readonly installationId: number };

/**
 * Copy GitHub's current metadata onto a connected record (6-hourly refresh, or the default branch a push reports);
 * only the fields given are compared and written. False when nothing changed.
 */
export async function updateRepositorySource(record: Repository, source: Partial<RepositorySource>, at = new Date()): Promise<boolean> {
  const changed = (Object.keys(source) as (keyof RepositorySource)[]).filter((name) => source[name] !== undefined && record[name] !== source[name]);
  if (changed.length === 0) return false;
  const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
  const values: Record<string, unknown> = { ':updatedAt': at.toISOString() };
  const assignments = changed.map((name, i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = source[name];
    return `#f${i} = :f${i}`;
  });
  try {
    await documentClient.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: repositoryKey(record.id),
        UpdateExpression: `SET ${assignments.join(', ')}, #updatedAt = :updatedAt`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
