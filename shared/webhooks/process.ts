import * as v from 'valibot';
import { queueScan, type ScanRequest } from '../api/scans.ts';
import { claimDeliveryTarget, findDelivery, releaseDeliveryTarget } from '../db/deliveries.ts';
import {
  addInstallationRepositories,
  forgetInstallation,
  hasRepositoryAccess,
  installationRepositories,
  markRepositoryAccessRemoved,
  markRepositoryAccessRestored,
  recordInstallation,
  removeInstallationRepositories,
  setInstallationSuspended,
  updateRepositorySource,
} from '../db/installations.ts';
import { repositoriesByGithubId, type Repository } from '../db/repositories.ts';
import { findUserById } from '../db/users.ts';
import { handleClosedPullRequest } from '../fix/pull-requests.ts';
import { AppError } from '../http/errors.ts';
import type { GithubEventSchema } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { loadPayload } from './payloads.ts';

// The github-events consumer: what each recorded delivery means for CodeGuardian. Pushes and pull requests
// queue scans for every user who connected the repository; installation events keep the record of where the
// App may read; everything else is acknowledged and logged. A delivery handed over twice acts once per
// repository: each scan is claimed under the delivery id before it is queued.

export type GithubEventMessage = v.InferOutput<typeof GithubEventSchema>;

/** What a delivery led to, for logs and tests. */
export interface EventOutcome {
  readonly handled: boolean;
  /** Why nothing (more) was done, when that is the case. */
  readonly reason?: string;
  readonly scans?: readonly { readonly repositoryId: string; readonly scanId?: string; readonly skipped?: string }[];
}

const ZERO_SHA = /^0+$/;
const Sha = v.pipe(v.string(), v.regex(/^[0-9a-f]{7,64}$/i));
const RepositoryRef = v.looseObject({ id: v.number(), full_name: v.string(), default_branch: v.optional(v.string()) });
const InstallationRef = v.optional(v.looseObject({ id: v.number() }));

const PushPayload = v.looseObject({
  ref: v.string(),
  before: v.optional(v.string()),
  after: v.string(),
  deleted: v.optional(v.boolean()),
  repository: RepositoryRef,
  installation: InstallationRef,
});

const PullRequestPayload = v.looseObject({
  action: v.string(),
  number: v.number(),
  repository: RepositoryRef,
  installation: InstallationRef,
  pull_request: v.looseObject({
    number: v.number(),
    merged: v.optional(v.nullable(v.boolean())),
    merged_at: v.optional(v.nullable(v.string())),
    closed_at: v.optional(v.nullable(v.string())),
    html_url: v.string(),
    head: v.looseObject({ ref: v.string(), sha: Sha }),
    base: v.looseObject({ ref: v.string(), sha: Sha }),
  }),
});

const RepoEntry = v.looseObject({ id: v.number(), full_name: v.string() });
const InstallationPayload = v.looseObject({
  action: v.string(),
  installation: v.looseObject({
    id: v.number(),
    account: v.optional(v.nullable(v.looseObject({ login: v.optional(v.string()), slug: v.optional(v.string()), type: v.optional(v.string()) }))),
    repository_selection: v.optional(v.string()),
    suspended_at: v.optional(v.nullable(v.string())),
  }),
  repositories: v.optional(v.nullable(v.array(RepoEntry))),
});
const InstallationRepositoriesPayload = v.looseObject({
  action: v.string(),
  installation: v.looseObject({ id: v.number() }),
  repositories_added: v.optional(v.array(RepoEntry)),
  repositories_removed: v.optional(v.array(RepoEntry)),
});

/** A payload that does not have the shape its event promises: failed for good (no retry can fix it). */
export class MalformedPayloadError extends AppError {
  constructor(event: string, issues: string) {
    super(400, 'MALFORMED_PAYLOAD', `The ${event} payload is malformed: ${issues}`);
  }
}

function parsePayload<S extends v.GenericSchema>(schema: S, payload: unknown, event: string): v.InferOutput<S> {
  const result = v.safeParse(schema, payload);
  if (!result.success) {
    throw new MalformedPayloadError(event, result.issues.slice(0, 3).map((i) => `${(i.path ?? []).map((p) => String(p.key)).join('.')}: ${i.message}`).join('; '));
  }
  return result.output;
}

const ignored = (reason: string): EventOutcome => {
  logger.info('Webhook event acknowledged without action', { reason });
  return { handled: false, reason };
};

/**
 * Queue one scan per connected record of the repository, each claimed under the delivery id first. A quota
 * refusal is final for that user (logged, no retry); any other failure releases the claim and, after the other
 * users' scans are queued, fails the message so the queue retries only what is left.
 */
async function queueScansFor(deliveryId: string, records: readonly Repository[], request: (repo: Repository) => ScanRequest | undefined) {
  const scans: { repositoryId: string; scanId?: string; skipped?: string }[] = [];
  const failures: unknown[] = [];
  for (const repo of records) {
    const scanRequest = request(repo);
    if (!scanRequest) continue;
    if (!hasRepositoryAccess(repo)) {
      scans.push({ repositoryId: repo.id, skipped: 'the App has no access to this repository' });
      continue;
    }
    if (!(await claimDeliveryTarget(deliveryId, `REPO#${repo.id}`))) {
      scans.push({ repositoryId: repo.id, skipped: 'already queued for this delivery' });
      continue;
    }
    try {
      const user = await findUserById(repo.userId);
      if (!user) {
        scans.push({ repositoryId: repo.id, skipped: 'the owner no longer exists' });
        continue;
      }
      const scan = await queueScan({ userId: user.id, subscription: user.subscription }, repo, scanRequest);
      scans.push({ repositoryId: repo.id, scanId: scan.id });
    } catch (error) {
      if (error instanceof AppError && error.status === 429) {
        logger.warn('Scan not queued: daily scan quota reached', { repositoryId: repo.id, userId: repo.userId });
        scans.push({ repositoryId: repo.id, skipped: error.code });
        continue;
      }
      await releaseDeliveryTarget(deliveryId, `REPO#${repo.id}`);
      logger.error('Could not queue a scan for a webhook', { repositoryId: repo.id, error: error as Error });
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of the delivery's scans could not be queued`);
  logger.info('Webhook scans', { scans });
  return scans;
}

/**
 * A push reports the repository's current default branch: a renamed one is stored before the scan is queued, so
 * the scan's findings are kept as the default branch's rather than waiting for the next refresh.
 */
async function withDefaultBranch(record: Repository, defaultBranch: string | undefined): Promise<Repository> {
  if (!defaultBranch || defaultBranch === record.defaultBranch) return record;
  await updateRepositorySource(record, { defaultBranch });
  logger.info('Default branch renamed', { repositoryId: record.id, from: record.defaultBranch, to: defaultBranch });
  return { ...record, defaultBranch };
}

async function onPush(deliveryId: string, payload: unknown): Promise<EventOutcome> {
  const push = parsePayload(PushPayload, payload, 'push');
  if (push.deleted === true || ZERO_SHA.test(push.after)) return ignored('branch deleted');
  if (!push.ref.startsWith('refs/heads/')) return ignored(`not a branch: ${push.ref}`);
  if (!v.is(Sha, push.after)) throw new MalformedPayloadError('push', 'after: not a commit hash');
  const branch = push.ref.slice('refs/heads/'.length);
  const found = await repositoriesByGithubId(push.repository.id);
  if (found.length === 0) return ignored('repository not connected');
  const records = await Promise.all(found.map((record) => withDefaultBranch(record, push.repository.default_branch)));
  const watched = (repo: Repository) => branch === repo.defaultBranch || repo.scanBranches.includes(branch);
  const scans = await queueScansFor(deliveryId, records, (repo) => (watched(repo) ? { trigger: 'push', branch, commitSha: push.after.toLowerCase() } : undefined));
  return scans.length > 0 ? { handled: true, scans } : ignored(`branch ${branch} is not watched`);
}

const PR_SCAN_ACTIONS = new Set(['opened', 'synchronize', 'reopened']);

async function onPullRequest(deliveryId: string, payload: unknown): Promise<EventOutcome> {
  const event = parsePayload(PullRequestPayload, payload, 'pull_request');
  const pull = event.pull_request;
  if (event.action === 'closed') {
    await handleClosedPullRequest({
      repository: event.repository,
      installation: event.installation,
      pull_request: { number: pull.number, merged: pull.merged === true, merged_at: pull.merged_at ?? null, closed_at: pull.closed_at ?? null, head: pull.head, html_url: pull.html_url },
    });
    return { handled: true };
  }
  if (!PR_SCAN_ACTIONS.has(event.action)) return ignored(`pull_request ${event.action}`);
  const records = await repositoriesByGithubId(event.repository.id);
  if (records.length === 0) return ignored('repository not connected');
  const scans = await queueScansFor(deliveryId, records, () => ({
    trigger: 'pull_request',
    branch: pull.head.ref,
    commitSha: pull.head.sha.toLowerCase(),
    baseSha: pull.base.sha.toLowerCase(),
    pullRequestNumber: pull.number,
  }));
  return { handled: true, scans };
}

async function onInstallation(payload: unknown): Promise<EventOutcome> {
  const event = parsePayload(InstallationPayload, payload, 'installation');
  const { installation } = event;
  const repos = (event.repositories ?? []).map((r) => ({ githubRepoId: r.id, fullName: r.full_name }));
  switch (event.action) {
    case 'created':
    case 'new_permissions_accepted':
      await recordInstallation({
        installationId: installation.id,
        account: installation.account?.login ?? installation.account?.slug ?? 'unknown',
        accountType: installation.account?.type,
        repositorySelection: installation.repository_selection,
        suspendedAt: installation.suspended_at ?? null,
        updatedAt: new Date().toISOString(),
      });
      await addInstallationRepositories(installation.id, repos);
      for (const repo of repos) await markRepositoryAccessRestored(repo.githubRepoId, installation.id);
      return { handled: true };
    case 'deleted': {
      const known = (await installationRepositories(installation.id)).map((r) => r.githubRepoId);
      const all = [...new Set([...known, ...repos.map((r) => r.githubRepoId)])];
      for (const id of all) await markRepositoryAccessRemoved(id, 'installation_deleted');
      await forgetInstallation(installation.id);
      return { handled: true };
    }
    case 'suspend':
      await setInstallationSuspended(installation.id, installation.suspended_at ?? new Date().toISOString());
      return { handled: true };
    case 'unsuspend':
      await setInstallationSuspended(installation.id, null);
      return { handled: true };
    default:
      return ignored(`installation ${event.action}`);
  }
}

async function onInstallationRepositories(payload: unknown): Promise<EventOutcome> {
  const event = parsePayload(InstallationRepositoriesPayload, payload, 'installation_repositories');
  const installationId = event.installation.id;
  const added = (event.repositories_added ?? []).map((r) => ({ githubRepoId: r.id, fullName: r.full_name }));
  const removed = (event.repositories_removed ?? []).map((r) => r.id);
  await addInstallationRepositories(installationId, added);
  for (const repo of added) await markRepositoryAccessRestored(repo.githubRepoId, installationId);
  await removeInstallationRepositories(installationId, removed);
  for (const id of removed) await markRepositoryAccessRemoved(id, 'repository_removed');
  return { handled: true };
}

/** Act on one recorded delivery. */
export async function processGithubEvent(message: GithubEventMessage): Promise<EventOutcome> {
  logger.appendKeys({ deliveryId: message.deliveryId, event: message.event, action: message.action });
  const delivery = await findDelivery(message.deliveryId);
  if (!delivery) return ignored('delivery record expired or missing');
  let payload: unknown;
  try {
    payload = await loadPayload(delivery);
  } catch (error) {
    throw new Error(`The payload of delivery ${message.deliveryId} could not be read (${message.payloadRef})`, { cause: error });
  }
  try {
    switch (message.event) {
      case 'push':
        return await onPush(message.deliveryId, payload);
      case 'pull_request':
        return await onPullRequest(message.deliveryId, payload);
      case 'installation':
        return await onInstallation(payload);
      case 'installation_repositories':
        return await onInstallationRepositories(payload);
      default:
        return ignored(`event ${message.event}`);
    }
  } catch (error) {
    // A retry cannot mend a malformed payload: it is logged as an error and acknowledged.
    if (!(error instanceof MalformedPayloadError)) throw error;
    logger.error('Webhook payload refused', { code: error.code, message: error.message });
    return { handled: false, reason: error.message };
  }
}
