import { githubApp, installationClient } from '../github/client.ts';
import { updateRepositorySource } from '../db/installations.ts';
import { repositoriesByGithubId } from '../db/repositories.ts';
import { recomputeRepositoryCounters } from '../db/vulnerabilities.ts';
import { logger } from '../runtime/powertools.ts';

// Every 6 hours: what GitHub says about each repository the App can read (name, default branch, language,
// visibility) is copied onto every connected record of it, and each record's counters and security score are
// recomputed from its findings (the score weighs findings that stay open too long, so it moves with time).
// GitHub is walked installation by installation, as the App sees them: no table Scan. Local repositories have no
// GitHub metadata; their counters are recomputed whenever their findings change.

const PER_PAGE = 100;

export interface RefreshResult {
  readonly installations: number;
  readonly repositories: number;
  readonly updated: number;
  readonly failed: number;
}

interface GithubRepository {
  readonly id: number;
  readonly name: string;
  readonly full_name: string;
  readonly owner: { readonly login: string };
  readonly private: boolean;
  readonly language?: string | null;
  readonly default_branch?: string;
}

async function installationIds(): Promise<number[]> {
  const app = await githubApp();
  if (!app) return [];
  const ids: number[] = [];
  for (let page = 1; ; page++) {
    const { data } = await app.octokit.request('GET /app/installations', { per_page: PER_PAGE, page });
    ids.push(...data.map((installation) => installation.id));
    if (data.length < PER_PAGE) return ids;
  }
}

async function repositoriesOf(installationId: number): Promise<GithubRepository[]> {
  const octokit = await installationClient(installationId);
  const repos: GithubRepository[] = [];
  for (let page = 1; ; page++) {
    const { data } = await octokit.request('GET /installation/repositories', { per_page: PER_PAGE, page });
    repos.push(...(data.repositories as GithubRepository[]));
    if (data.repositories.length < PER_PAGE) return repos;
  }
}

export async function refreshRepositories(): Promise<RefreshResult> {
  const ids = await installationIds();
  if (ids.length === 0) logger.info('No GitHub App installations to refresh (App not configured or not installed)');
  let repositories = 0;
  let updated = 0;
  let failed = 0;
  for (const installationId of ids) {
    let repos: GithubRepository[];
    try {
      repos = await repositoriesOf(installationId);
    } catch (error) {
      logger.error('Could not list the repositories of an installation', { installationId, error: error as Error });
      failed++;
      continue;
    }
    for (const github of repos) {
      for (const record of await repositoriesByGithubId(github.id)) {
        repositories++;
        try {
          const changed = await updateRepositorySource(record, {
            installationId,
            name: github.name,
            fullName: github.full_name,
            owner: github.owner.login,
            private: github.private,
            language: github.language ?? null,
            defaultBranch: github.default_branch ?? record.defaultBranch,
          });
          if (changed) updated++;
          await recomputeRepositoryCounters(record.id);
        } catch (error) {
          logger.error('Could not refresh a repository', { repositoryId: record.id, error: error as Error });
          failed++;
        }
      }
    }
  }
  const result = { installations: ids.length, repositories, updated, failed };
  logger.info('Repository refresh', { ...result });
  return result;
}
