import { allRepositoriesOf } from '../db/repositories.ts';
import { getScan, type Scan } from '../db/scans.ts';
import type { AuthUser } from '../http/auth.ts';
import { NotFoundError } from '../http/errors.ts';
import { config } from '../runtime/env.ts';
import { queueScan } from './scans.ts';

// The second seed's scan API (`POST /scan`, `GET /scan/:scanId`) over the same scans as the REST API.

/** `owner/name` of a repository URL on GITHUB_URL (`https://host/owner/name[.git][/]`), or undefined. */
export function fullNameOf(repoUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(repoUrl);
  } catch {
    return undefined;
  }
  const host = new URL(config().githubUrl).host;
  const match = /^\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.pathname);
  if (url.host.toLowerCase() !== host.toLowerCase() || !match) return undefined;
  return `${match[1]}/${match[2]}`;
}

/** `POST /scan`: queue a scan of one of the caller's connected repositories, named by its URL. */
export async function startCompatScan(user: AuthUser, input: { repoUrl: string; branch?: string }) {
  const fullName = fullNameOf(input.repoUrl)?.toLowerCase();
  const repos = await allRepositoriesOf(user.userId);
  const repo = repos.find((r) => r.provider === 'github' && r.fullName.toLowerCase() === fullName);
  if (!repo) throw new NotFoundError('No connected repository has this URL; connect it first', 'REPOSITORY_NOT_CONNECTED');
  const scan = await queueScan(user, repo, { trigger: 'manual', branch: input.branch });
  return { status: 202, body: { scanId: scan.id, status: 'initiated', executionId: scan.executionId, message: 'Scan workflow started' } };
}

/** The second seed's statuses: a scan waiting in the queue is `initiated`. */
const compatStatus = (status: Scan['status']) => (status === 'queued' ? 'initiated' : status);

/** `GET /scan/:scanId`: status, progress and, once completed, the results summary. */
export async function compatScanStatus(userId: string, scanId: string) {
  const scan = await getScan(userId, scanId);
  return {
    scanId: scan.id,
    status: compatStatus(scan.status),
    progress: { ...scan.progress },
    results: scan.summary
      ? { summary: { ...scan.summary }, reports: (['json', 'sarif'] as const).filter((f) => scan.reports?.[f] !== undefined).map((format) => ({ format, url: `/api/scans/${scan.id}/report?format=${format}` })) }
      : null,
  };
}
