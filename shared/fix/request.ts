import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import * as v from 'valibot';
import { abandonFixAttempt, startFixAttempt } from '../db/fix-pull-requests.ts';
import { getRepository, type Repository } from '../db/repositories.ts';
import { getVulnerability, type Vulnerability } from '../db/vulnerabilities.ts';
import type { AuthUser } from '../http/auth.ts';
import { AppError, ConflictError, ServiceUnavailableError, TooManyRequestsError } from '../http/errors.ts';
import { modelConfigured } from '../llm/models.ts';
import { ENV } from '../platform/declarations.ts';
import { sqs } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';
import { FixJobSchema, type FixJob } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { checkFixLimits, fixLimits, type FixLimits } from './limits.ts';
import { reconcileLocalFixBranches } from './local-reconcile.ts';
import { hasRewrite } from './rewrites/index.ts';
import { previousFixVeto } from './workflow.ts';

// Asking for a fix: checks that answer at once (ownership, status, an open or declined fix pull request, whether
// any fix can be built, the repository's limits), then a fix attempt and a job on the fix-generation queue.

/** Whether a fix can be attempted at all: the rule has a rewrite, or a model is configured to write one. */
export function fixPossible(vulnerability: Pick<Vulnerability, 'ruleId' | 'autoFixAvailable'>): boolean {
  return vulnerability.autoFixAvailable || hasRewrite(vulnerability.ruleId) || modelConfigured('main');
}

/**
 * Queue a fix job for a vulnerability: its fix attempt (409 FIX_IN_PROGRESS while another is moving) and the
 * message. If the message cannot be sent the attempt is removed again and the answer is 503.
 */
export async function queueFix(vulnerability: Pick<Vulnerability, 'id' | 'repositoryId' | 'userId'>): Promise<FixJob> {
  const job: FixJob = v.parse(FixJobSchema, { fixId: randomUUID(), vulnerabilityId: vulnerability.id, repositoryId: vulnerability.repositoryId, userId: vulnerability.userId });
  await startFixAttempt(job);
  try {
    await sqs.send(new SendMessageCommand({ QueueUrl: requireEnv(ENV.fixGenerationQueueUrl), MessageBody: JSON.stringify(job) }));
  } catch (error) {
    await abandonFixAttempt(job);
    logger.error('Could not queue the fix job', { fixId: job.fixId, error: error as Error });
    throw new ServiceUnavailableError('The fix could not be queued; try again later', 'FIX_QUEUE_UNAVAILABLE');
  }
  return job;
}

/** `POST /vulnerabilities/:id/fix` → 202 `{ fixId, status: 'queued', vulnerabilityId }`. */
export async function requestVulnerabilityFix(user: AuthUser, vulnerabilityId: string) {
  const found = await getVulnerability(user.userId, vulnerabilityId);
  const repo = await getRepository(user.userId, found.repositoryId);
  // A local repository's merged or deleted fix branches are settled first: they decide status and limits.
  await reconcileLocalFixBranches(repo);
  const vulnerability = repo.provider === 'local' ? await getVulnerability(user.userId, vulnerabilityId) : found;
  if (vulnerability.status !== 'open') {
    throw new ConflictError(`The vulnerability is ${vulnerability.status.replace('_', ' ')}; only open vulnerabilities are fixed`, 'VULNERABILITY_NOT_OPEN');
  }
  const veto = await previousFixVeto(vulnerability);
  if (veto) throw new ConflictError(veto.reason, veto.code);
  if (!fixPossible(vulnerability)) {
    throw new AppError(422, 'NO_FIX_AVAILABLE', `The rule ${vulnerability.ruleId} has no mechanical rewrite and no AI model is configured to write a fix`);
  }
  const limits = await checkFixLimits(vulnerability.repositoryId);
  if (!limits.ok) {
    if (limits.code === 'DAILY_FIX_PR_LIMIT') throw new TooManyRequestsError(limits.retryAfterSeconds ?? 3600, limits.reason, limits.code);
    throw new ConflictError(limits.reason, limits.code);
  }
  const job = await queueFix(vulnerability);
  return { status: 202, body: { fixId: job.fixId, status: 'queued' as const, vulnerabilityId: vulnerability.id } };
}

/**
 * Auto-fix: queue fixes for a repository's fixable open vulnerabilities, as many as its limits leave room for
 * (open fix pull requests and today's count, minus what is queued here). Returns the queued jobs.
 */
export async function queueAutoFixes(
  repo: Pick<Repository, 'id' | 'userId' | 'autoFixEnabled' | 'provider' | 'localPath' | 'defaultBranch'>,
  vulnerabilities: readonly Vulnerability[],
  limits?: FixLimits,
): Promise<FixJob[]> {
  if (!repo.autoFixEnabled) return [];
  await reconcileLocalFixBranches(repo);
  const effective = limits ?? fixLimits();
  const verdict = await checkFixLimits(repo.id, new Date(), effective);
  if (!verdict.ok) {
    logger.info('Auto-fix skipped: repository at its fix pull request limit', { repositoryId: repo.id, code: verdict.code });
    return [];
  }
  let room = Math.min(effective.maxOpen - verdict.open, effective.maxPerDay - verdict.today);
  const queued: FixJob[] = [];
  for (const vulnerability of vulnerabilities) {
    if (room <= 0) break;
    if (vulnerability.repositoryId !== repo.id || vulnerability.status !== 'open' || !fixPossible(vulnerability)) continue;
    if (await previousFixVeto(vulnerability)) continue;
    try {
      queued.push(await queueFix(vulnerability));
      room--;
    } catch (error) {
      if (error instanceof ConflictError) continue;
      throw error;
    }
  }
  return queued;
}
