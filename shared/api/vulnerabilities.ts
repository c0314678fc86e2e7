import { recordActivity } from '../db/activity.ts';
import { latestFixAttempt, latestFixPullRequest } from '../db/fix-pull-requests.ts';
import { getRepository, type VulnerabilityStatus } from '../db/repositories.ts';
import { recordTrendSnapshot } from '../db/trends.ts';
import {
  auditTrail,
  changeVulnerabilityStatus,
  getVulnerability,
  listVulnerabilityEntries,
  recomputeRepositoryCounters,
  type Vulnerability,
  type VulnerabilityFilters,
} from '../db/vulnerabilities.ts';
import { ValidationError } from '../http/errors.ts';
import { listBody, offsetOf, pageRequest, type PaginationInput } from '../http/pagination.ts';
import { toStatusChangeResponse, toVulnerabilityResponse } from './mappers.ts';

/** `GET /vulnerabilities` with the seed's filters; a repository filter must name one of the caller's repositories. */
export async function listVulnerabilitiesOf(userId: string, query: PaginationInput & VulnerabilityFilters) {
  const request = pageRequest(query);
  if (query?.repositoryId) await getRepository(userId, query.repositoryId);
  const filters: VulnerabilityFilters = {
    severity: query?.severity,
    status: query?.status,
    repositoryId: query?.repositoryId,
    type: query?.type,
    cwe: query?.cwe,
  };
  const page = await listVulnerabilityEntries(userId, filters, request, offsetOf(request));
  return listBody('vulnerabilities', page.items.map(toVulnerabilityResponse), request, page.total, page.nextCursor);
}

/** `GET /vulnerabilities/:id`: the seed's Vulnerability Detail, with the latest fix pull request and fix attempt. */
export async function vulnerabilityDetail(userId: string, vulnerabilityId: string) {
  const vulnerability = await getVulnerability(userId, vulnerabilityId);
  const [pr, attempt] = await Promise.all([latestFixPullRequest(vulnerability.id), latestFixAttempt(vulnerability.id)]);
  return {
    ...toVulnerabilityResponse({ ...vulnerability, fixPullRequest: fixPullRequestSummary(vulnerability, pr) }),
    // Present once a fix was requested (SPEC §8: the reason a fix was not proposed is shown in the detail).
    ...(attempt ? { fix: { fixId: attempt.fixId, status: attempt.status, code: attempt.code, reason: attempt.reason, confidence: attempt.confidence, updatedAt: attempt.updatedAt } } : {}),
  };
}

/** The latest fix pull request of a vulnerability as the API shows it, else the one recorded on the item. */
export function fixPullRequestSummary(vulnerability: Pick<Vulnerability, 'fixPullRequest'>, pr: Awaited<ReturnType<typeof latestFixPullRequest>>) {
  return pr ? { prNumber: pr.prNumber, prUrl: pr.prUrl, status: pr.status, createdAt: pr.createdAt } : vulnerability.fixPullRequest;
}

/**
 * `PATCH /vulnerabilities/:id/status`: the change and its audit entry in one transaction, then the repository's
 * counters are recomputed, today's trend snapshot rewritten and the change recorded in the activity feed.
 * Setting the status it already has changes nothing and adds no audit entry.
 */
export async function updateVulnerabilityStatus(userId: string, vulnerabilityId: string, input: { status: VulnerabilityStatus; reason?: string }) {
  if ((input.status === 'false_positive' || input.status === 'ignored') && !input.reason?.trim()) {
    throw new ValidationError([{ path: 'body.reason', message: `A reason is required to mark a vulnerability ${input.status.replace('_', ' ')}` }]);
  }
  const current = await getVulnerability(userId, vulnerabilityId);
  let vulnerability: Vulnerability = current;
  if (current.status !== input.status) {
    ({ vulnerability } = await changeVulnerabilityStatus(current, input.status, input.reason ?? null));
    await recomputeRepositoryCounters(current.repositoryId);
    await recordTrendSnapshot(userId);
    await recordActivity(userId, {
      type: 'vulnerability_status_changed',
      message: `${current.type} in ${current.filePath} marked ${input.status.replace('_', ' ')}`,
      repositoryId: current.repositoryId,
      vulnerabilityId: current.id,
      data: { from: current.status, to: input.status, reason: input.reason ?? null },
    });
  }
  const trail = await auditTrail(vulnerabilityId);
  return { ...toVulnerabilityResponse(vulnerability), auditTrail: trail.map(toStatusChangeResponse) };
}
