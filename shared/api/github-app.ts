import type { App } from '@octokit/app';
import { githubApp, installationClient, statusOf } from '../github/client.ts';
import { ConflictError, ServiceUnavailableError } from '../http/errors.ts';
import { ConfigError, config } from '../runtime/env.ts';
import { logger } from '../runtime/powertools.ts';

/** What connecting needs to know of a GitHub repository the App is installed on. */
export interface InstalledRepository {
  readonly githubRepoId: number;
  readonly installationId: number;
  readonly name: string;
  readonly fullName: string;
  readonly owner: string;
  readonly private: boolean;
  readonly language: string | null;
  readonly defaultBranch: string;
}

/** `GITHUB_URL/apps/<slug>/installations/new`, the slug from GITHUB_APP_SLUG or else from `GET /app`. */
async function installUrl(app: App | undefined): Promise<string | null> {
  const { githubUrl, githubAppSlug } = config();
  let slug = githubAppSlug;
  if (!slug && app) {
    try {
      slug = (await app.octokit.request('GET /app')).data?.slug;
    } catch (error) {
      logger.warn('Could not read the GitHub App slug', { status: statusOf(error) });
    }
  }
  return slug ? `${githubUrl}/apps/${encodeURIComponent(slug)}/installations/new` : null;
}

async function notInstalled(app: App | undefined, fullName: string, configured: boolean): Promise<ConflictError> {
  const message = configured
    ? `The GitHub App is not installed on ${fullName}`
    : 'The GitHub App is not configured (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY)';
  return new ConflictError(message, 'APP_NOT_INSTALLED', { installUrl: await installUrl(app) });
}

function unavailable(error: unknown): ServiceUnavailableError {
  if (error instanceof ConfigError) {
    // The operator's fix-it message goes to the log; the caller learns only that the App is misconfigured.
    logger.error('GitHub App configuration refused', { message: error.message });
    return new ServiceUnavailableError('The GitHub App is misconfigured on this server; its operator has the details in the log', 'GITHUB_APP_MISCONFIGURED');
  }
  logger.warn('GitHub request failed', { status: statusOf(error), message: (error as Error).message });
  return new ServiceUnavailableError('GitHub did not answer as expected; try again later', 'GITHUB_UNAVAILABLE');
}

/**
 * The repository `owner/name` if the App is installed on it: `GET /repos/{owner}/{repo}/installation` as the
 * App, then the repository itself with that installation's token. 409 APP_NOT_INSTALLED with the install URL
 * when the App is missing there or not configured at all.
 */
export async function installedRepository(fullName: string): Promise<InstalledRepository> {
  const [owner, repo] = fullName.split('/') as [string, string];
  const app = await githubApp().catch((error: unknown) => {
    throw unavailable(error);
  });
  if (!app) throw await notInstalled(undefined, fullName, false);
  let installationId: number;
  try {
    installationId = (await app.octokit.request('GET /repos/{owner}/{repo}/installation', { owner, repo })).data.id;
  } catch (error) {
    if (statusOf(error) === 404) throw await notInstalled(app, fullName, true);
    throw unavailable(error);
  }
  try {
    const client = await installationClient(installationId);
    const { data } = await client.request('GET /repos/{owner}/{repo}', { owner, repo });
    return {
      githubRepoId: Number(data.id),
      installationId,
      name: data.name,
      fullName: data.full_name,
      owner: data.owner.login,
      private: data.private,
      language: data.language ?? null,
      defaultBranch: data.default_branch,
    };
  } catch (error) {
    if (statusOf(error) === 404) throw await notInstalled(app, fullName, true);
    throw unavailable(error);
  }
}
