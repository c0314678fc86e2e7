import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Services } from '../../../lib/local/stack.ts';
import { stateMachineArn } from '../../../lib/local/workflow-runner.ts';
import { newRepository } from '../../../shared/api/repositories.ts';
import { newQueuedScan } from '../../../shared/api/scans.ts';
import { createRepository, type Repository } from '../../../shared/db/repositories.ts';
import type { PipelineScan } from '../../../shared/db/scan-progress.ts';
import { createScan, findScan } from '../../../shared/db/scans.ts';
import { workflows } from '../../../shared/platform/declarations.ts';
import type { ScanJob } from '../../../shared/runtime/jobs.ts';
import type { FakeRepo } from '../../support/fake-github/server.ts';
import type { TestUser } from '../api/support.ts';

export const PIPELINE_FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A triage step that passes findings through the store with a `triage` marker, to check persist stores it. */
export const TRIAGE_STAND_IN = { [workflows.scan.steps.triage.entry]: `${PIPELINE_FIXTURES}pass-through-triage.ts` };

/** Connect a fake GitHub repository to a user, as the connect route stores it. */
export async function connectFakeRepository(user: TestUser, repo: FakeRepo, settings: Partial<Repository> = {}): Promise<Repository> {
  const repository: Repository = {
    ...newRepository(user.id, {
      name: repo.name,
      fullName: repo.fullName,
      owner: repo.owner,
      private: false,
      language: 'JavaScript',
      defaultBranch: repo.defaultBranch,
      githubRepoId: repo.id,
      installationId: repo.installationId,
    }),
    ...settings,
  };
  await createRepository(repository);
  return repository;
}

/** A queued scan item and its job, as queueScan writes them (without the queue). */
export async function queuedScan(user: TestUser, repo: Repository, job: Partial<ScanJob> = {}): Promise<ScanJob> {
  const scan = newQueuedScan(user.id, repo, { trigger: job.trigger ?? 'manual', branch: job.branch });
  await createScan(scan);
  const id = scan.id;
  return { scanId: id, repositoryId: repo.id, userId: user.id, trigger: 'manual', ...job };
}

/** Runs the scan workflow for a job to its end through the local runner; answers the execution and the scan item. */
export async function runScan(services: Services, job: ScanJob) {
  const execution = services.runner.startExecution(stateMachineArn(workflows.scan.name), JSON.stringify(job), `scan-${job.scanId}`);
  await execution.done;
  const scan = (await findScan(job.scanId)) as PipelineScan;
  return { execution, scan };
}

export interface LiveEvent {
  readonly event: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/** A WebSocket client of `token` that keeps every event it receives. */
export async function liveEvents(services: Services, token: string): Promise<{ events: LiveEvent[]; close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${services.apiPort}/ws?token=${encodeURIComponent(token)}`);
  const events: LiveEvent[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data)) as LiveEvent));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { events, close: () => ws.close() };
}
