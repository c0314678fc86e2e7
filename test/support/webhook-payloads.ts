import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

// Real webhook payloads (@octokit/webhooks-examples, as GitHub sends them) pointed at a test repository and
// signed the way GitHub signs them.

type Json = Record<string, unknown>;
interface Definition {
  readonly name: string;
  readonly examples: readonly Json[];
}

const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as readonly Definition[];

/** A deep copy of the first example of `event` that `pick` accepts. */
export function example(event: string, pick: (payload: Json) => boolean = () => true): Json {
  const found = definitions.find((d) => d.name === event)?.examples.find(pick);
  if (!found) throw new Error(`@octokit/webhooks-examples has no matching ${event} example`);
  return structuredClone(found);
}

/** What a payload needs to know of the repository it is about. */
export interface PayloadRepo {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
  readonly defaultBranch: string;
  readonly installationId: number;
}

function pointAt(payload: Json, repo: PayloadRepo): Json {
  const repository = payload.repository as Json;
  Object.assign(repository, { id: repo.id, name: repo.name, full_name: `${repo.owner}/${repo.name}`, default_branch: repo.defaultBranch });
  Object.assign(repository.owner as Json, { login: repo.owner, name: repo.owner });
  payload.installation = { id: repo.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };
  return payload;
}

/** GitHub's `push` example (a push to a branch) rewritten to `repo`, `branch` and the commits `before` → `after`. */
export function pushPayload(repo: PayloadRepo, push: { after: string; before?: string; branch?: string; deleted?: boolean }): Json {
  const payload = pointAt(example('push', (p) => String(p.ref).startsWith('refs/heads/') && p.deleted === false), repo);
  const deleted = push.deleted ?? false;
  return Object.assign(payload, {
    ref: `refs/heads/${push.branch ?? repo.defaultBranch}`,
    before: push.before ?? '0'.repeat(40),
    after: deleted ? '0'.repeat(40) : push.after,
    deleted,
    created: push.before === undefined,
  });
}

/** GitHub's `pull_request` example for `action`, rewritten to `repo` and the given head and base. */
export function pullRequestPayload(
  repo: PayloadRepo,
  pr: { action: string; number: number; headRef: string; headSha: string; baseSha: string; merged?: boolean },
): Json {
  const payload = pointAt(example('pull_request', (p) => p.action === pr.action), repo);
  const pull = payload.pull_request as Json;
  Object.assign(pull.head as Json, { ref: pr.headRef, sha: pr.headSha, label: `${repo.owner}:${pr.headRef}` });
  Object.assign(pull.base as Json, { ref: repo.defaultBranch, sha: pr.baseSha, label: `${repo.owner}:${repo.defaultBranch}` });
  Object.assign(pull, { number: pr.number, html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${pr.number}` });
  if (pr.merged !== undefined) Object.assign(pull, { merged: pr.merged, merged_at: pr.merged ? new Date().toISOString() : null, closed_at: new Date().toISOString() });
  return Object.assign(payload, { number: pr.number });
}

const repoEntry = (repo: { id: number; fullName: string }) => ({ id: repo.id, name: repo.fullName.split('/')[1], full_name: repo.fullName, private: true, node_id: 'MDEwOlJlcG9zaXRvcnkx' });

/** GitHub's `installation` example for `action`, for installation `installationId` covering `repos`. */
export function installationPayload(action: string, installationId: number, repos: readonly { id: number; fullName: string }[] = []): Json {
  const payload = example('installation', (p) => p.action === action);
  Object.assign(payload.installation as Json, { id: installationId });
  if (repos.length > 0 || 'repositories' in payload) payload.repositories = repos.map(repoEntry);
  return payload;
}

/** GitHub's `installation_repositories` example for `action` (`added` or `removed`). */
export function installationRepositoriesPayload(action: 'added' | 'removed', installationId: number, repos: readonly { id: number; fullName: string }[]): Json {
  const payload = example('installation_repositories', (p) => p.action === action);
  Object.assign(payload.installation as Json, { id: installationId });
  payload.repositories_added = action === 'added' ? repos.map(repoEntry) : [];
  payload.repositories_removed = action === 'removed' ? repos.map(repoEntry) : [];
  return payload;
}

/** Headers and body of a delivery as GitHub posts it. */
export interface SignedDelivery {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly deliveryId: string;
}

export async function signedDelivery(secret: string, event: string, payload: unknown, deliveryId: string = randomUUID()): Promise<SignedDelivery> {
  const body = JSON.stringify(payload);
  return {
    deliveryId,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-github-hook-id': '292430182',
      'x-github-hook-installation-target-type': 'integration',
      'x-hub-signature-256': await sign(secret, body),
    },
  };
}
