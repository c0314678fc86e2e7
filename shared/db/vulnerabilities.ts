import { randomUUID } from 'node:crypto';
import type { Finding } from '../analysis/types.ts';
import { securityScore, STALE_AFTER_DAYS } from '../domain/scores.ts';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import type { PageRequest } from '../http/pagination.ts';
import { getItem, queryAll, transactWrite, type Item, type ItemKey } from './client.ts';
import { batchDelete, batchPut, queryCount, queryFilled, type Filter } from './bulk.ts';
import {
  emptyStatusCounts,
  findRepository,
  repositorySummaryOf,
  SEVERITIES,
  writeRepositoryCounters,
  type Repository,
  type RepositoryCounters,
  type Severity,
  type StatusCounts,
  type VulnerabilityStatus,
} from './repositories.ts';
import type { FixPullRequestSummary } from './fix-pull-requests.ts';

export interface Vulnerability {
  readonly id: string;
  readonly userId: string;
  readonly repositoryId: string;
  /** Stable identity across scans (rule + file + normalised code). */
  readonly fingerprint: string;
  readonly ruleId: string;
  readonly kind: Finding['kind'];
  readonly type: string;
  readonly severity: Severity;
  readonly confidence: Finding['confidence'];
  readonly status: VulnerabilityStatus;
  readonly filePath: string;
  readonly lineNumber: number;
  readonly codeSnippet: string;
  readonly description: string;
  /** Filled by the explanation service; null until then. */
  readonly explanation: string | null;
  readonly impact: string | null;
  readonly recommendation: string | null;
  readonly cweId: string | null;
  readonly owasp: string | null;
  readonly cvssScore: number | null;
  readonly references: readonly string[];
  readonly autoFixAvailable: boolean;
  readonly fixConfidence: number | null;
  readonly fixPullRequest: FixPullRequestSummary | null;
  readonly detectedAt: string;
  readonly lastSeenAt: string;
  readonly firstScanId: string;
  readonly lastScanId: string;
  readonly fixedAt?: string;
  readonly statusReason?: string;
  readonly statusChangedAt?: string;
  /** The model's triage of the finding at its last scan (verdict, confidence, reasoning), when a model ran. */
  readonly triage?: object;
}

/** One status change of a vulnerability, kept as its audit trail. */
export interface StatusChange {
  readonly id: string;
  readonly vulnerabilityId: string;
  readonly userId: string;
  readonly from: VulnerabilityStatus;
  readonly to: VulnerabilityStatus;
  readonly reason: string | null;
  /** `user` for a change through the API, `scan` when a scan stopped or started finding it again. */
  readonly actor: 'user' | 'scan';
  readonly at: string;
}

/** Key of a vulnerability item. */
export const vulnerabilityKey = (vulnerabilityId: string) => ({ pk: `VULN#${vulnerabilityId}`, sk: 'VULN' });

const userVulnsPk = (userId: string) => `USER#${userId}#VULNS`;
const repoVulnsPk = (repositoryId: string) => `REPO#${repositoryId}#VULNS`;
const severityPk = (userId: string, severity: string) => `USER#${userId}#VULNS#${severity}`;
const severitySk = (v: Pick<Vulnerability, 'status' | 'detectedAt' | 'id'>) => `${v.status}#${v.detectedAt}#${v.id}`;

function vulnerabilityItem(v: Vulnerability) {
  return {
    ...vulnerabilityKey(v.id),
    ...v,
    entity: 'Vulnerability',
    gsi1pk: userVulnsPk(v.userId),
    gsi1sk: `${v.detectedAt}#${v.id}`,
    gsi2pk: repoVulnsPk(v.repositoryId),
    gsi2sk: v.fingerprint,
    gsi3pk: severityPk(v.userId, v.severity),
    gsi3sk: severitySk(v),
  };
}

/** A vulnerability of `userId`; another user's id is answered exactly like a missing one. */
export async function getVulnerability(userId: string, vulnerabilityId: string): Promise<Item<Vulnerability>> {
  const item = await getItem<Vulnerability>(vulnerabilityKey(vulnerabilityId));
  if (!item || item.userId !== userId) throw new NotFoundError('Vulnerability not found');
  return item;
}

/** Every vulnerability of a repository, any status (gsi2 `REPO#<repoId>#VULNS`, by fingerprint). */
export async function vulnerabilitiesOfRepository(repositoryId: string): Promise<Item<Vulnerability>[]> {
  return queryAll<Vulnerability>({ index: 'gsi2', pk: repoVulnsPk(repositoryId) }, 1_000_000);
}

/** The attributes a list entry shows (the seed's Vulnerability Detail fields): all a list page reads. */
export const VULNERABILITY_LIST_ATTRIBUTES = [
  'id', 'repositoryId', 'type', 'severity', 'status', 'filePath', 'lineNumber', 'codeSnippet', 'description', 'explanation', 'impact',
  'recommendation', 'cweId', 'owasp', 'cvssScore', 'autoFixAvailable', 'fixConfidence', 'fixPullRequest', 'detectedAt',
] as const satisfies readonly (keyof Vulnerability)[];
export type VulnerabilityListEntry = Pick<Vulnerability, (typeof VULNERABILITY_LIST_ATTRIBUTES)[number]>;

export interface VulnerabilityFilters {
  readonly severity?: Severity;
  readonly status?: VulnerabilityStatus;
  /** A repository the caller owns (checked by the caller). */
  readonly repositoryId?: string;
  readonly type?: string;
  readonly cwe?: string;
}

function filterOf(conditions: [string, string, unknown][]): Filter | undefined {
  if (conditions.length === 0) return undefined;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts = conditions.map(([attribute, , value], i) => {
    names[`#f${i}`] = attribute;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  return { expression: parts.join(' AND '), names, values };
}

/**
 * The index that fits a vulnerability filter: a repository's gsi2 partition, a severity's gsi3 partition
 * (whose sort key starts with the status), or the user's gsi1 partition, newest first; what the key cannot
 * express becomes a filter.
 */
function vulnerabilityQuery(userId: string, filters: VulnerabilityFilters) {
  const rest: [string, string, unknown][] = [];
  if (filters.type) rest.push(['type', '=', filters.type]);
  if (filters.cwe) rest.push(['cweId', '=', filters.cwe]);
  if (filters.repositoryId) {
    if (filters.severity) rest.push(['severity', '=', filters.severity]);
    if (filters.status) rest.push(['status', '=', filters.status]);
    rest.push(['userId', '=', userId]);
    return { index: 'gsi2', pk: repoVulnsPk(filters.repositoryId), filter: filterOf(rest), descending: false } as const;
  }
  if (filters.severity) {
    return {
      index: 'gsi3',
      pk: severityPk(userId, filters.severity),
      skBeginsWith: filters.status ? `${filters.status}#` : undefined,
      filter: filterOf(rest),
      descending: true,
    } as const;
  }
  if (filters.status) rest.push(['status', '=', filters.status]);
  return { index: 'gsi1', pk: userVulnsPk(userId), filter: filterOf(rest), descending: true } as const;
}

function totalFromCounters(repos: readonly Pick<Repository, 'counts'>[], filters: VulnerabilityFilters): number {
  let total = 0;
  for (const repo of repos) {
    for (const [status, bySeverity] of Object.entries(repo.counts ?? {})) {
      if (filters.status && status !== filters.status) continue;
      for (const [severity, n] of Object.entries(bySeverity)) if (!filters.severity || severity === filters.severity) total += n;
    }
  }
  return total;
}

async function vulnerabilityPage<T>(userId: string, filters: VulnerabilityFilters, request: PageRequest, skip: number, attributes?: readonly string[]) {
  const query = vulnerabilityQuery(userId, filters);
  const total = async (): Promise<number> => {
    if (filters.type || filters.cwe) return queryCount(query);
    if (filters.repositoryId) {
      const repo = await findRepository(filters.repositoryId);
      return repo && repo.userId === userId ? totalFromCounters([repo], filters) : 0;
    }
    return totalFromCounters([await repositorySummaryOf(userId)], filters);
  };
  const [page, count] = await Promise.all([queryFilled<T>({ ...query, attributes, limit: request.limit, skip, cursor: request.cursor }), total()]);
  return { ...page, total: count };
}

/**
 * One page of a user's vulnerabilities, whole items. The total comes from recomputed counters when the filter is
 * by severity, status or repository (the repository's, or the user's summary of all of them: one Get), and from a
 * DynamoDB count otherwise.
 */
export async function listVulnerabilities(userId: string, filters: VulnerabilityFilters, request: PageRequest, skip: number) {
  return vulnerabilityPage<Item<Vulnerability>>(userId, filters, request, skip);
}

/** The same page with only the attributes a list entry shows (`GET /vulnerabilities`): no over-fetching. */
export async function listVulnerabilityEntries(userId: string, filters: VulnerabilityFilters, request: PageRequest, skip: number) {
  return vulnerabilityPage<VulnerabilityListEntry>(userId, filters, request, skip, VULNERABILITY_LIST_ATTRIBUTES);
}

/** Recompute a repository's counters and security score from its vulnerabilities, written in one Update. */
export async function recomputeRepositoryCounters(repositoryId: string, now = new Date()): Promise<RepositoryCounters> {
  const counts: StatusCounts = emptyStatusCounts();
  const staleBefore = new Date(now.getTime() - STALE_AFTER_DAYS * 86_400_000).toISOString();
  let stale = 0;
  for (const v of await vulnerabilitiesOfRepository(repositoryId)) {
    counts[v.status][v.severity] += 1;
    if (v.status === 'open' && (v.severity === 'critical' || v.severity === 'high') && v.detectedAt < staleBefore) stale++;
  }
  const open = counts.open;
  const counters: RepositoryCounters = {
    totalVulnerabilities: SEVERITIES.reduce((n, s) => n + open[s], 0),
    criticalCount: open.critical,
    highCount: open.high,
    mediumCount: open.medium,
    lowCount: open.low,
    infoCount: open.info,
    securityScore: securityScore(open),
    counts,
    staleHighOrCritical: stale,
    countersUpdatedAt: now.toISOString(),
  };
  await writeRepositoryCounters(repositoryId, counters);
  return counters;
}

const FIX_CONFIDENCE: Readonly<Record<Finding['confidence'], number>> = { high: 0.9, medium: 0.6, low: 0.3 };

function fromFinding(f: Finding & { readonly triage?: object }, base: { id: string; userId: string; repositoryId: string; scanId: string; at: string }): Vulnerability {
  return {
    id: base.id,
    userId: base.userId,
    repositoryId: base.repositoryId,
    fingerprint: f.fingerprint,
    ruleId: f.ruleId,
    kind: f.kind,
    type: f.type,
    severity: f.severity,
    confidence: f.confidence,
    status: 'open',
    filePath: f.location.path,
    lineNumber: f.location.startLine,
    codeSnippet: f.snippet,
    description: f.message,
    explanation: null,
    impact: null,
    recommendation: f.fix?.description ?? null,
    cweId: f.cwe[0] ?? null,
    owasp: f.owasp ?? null,
    cvssScore: f.cvss ?? null,
    references: f.references ?? [],
    autoFixAvailable: f.fix !== undefined,
    fixConfidence: f.fix ? FIX_CONFIDENCE[f.confidence] : null,
    fixPullRequest: null,
    detectedAt: base.at,
    lastSeenAt: base.at,
    firstScanId: base.scanId,
    lastScanId: base.scanId,
    ...(f.triage ? { triage: f.triage } : {}),
  };
}

export interface SaveFindingsResult {
  readonly new: number;
  readonly updated: number;
  readonly reopened: number;
  readonly fixed: number;
  readonly counters: RepositoryCounters;
  /** The vulnerabilities this scan created or reopened, in the findings' order. */
  readonly found: readonly Vulnerability[];
}

/**
 * Persist a scan's findings: upsert vulnerabilities by fingerprint (new ones open; ones a scan had marked fixed
 * reopen; false positives and ignored ones keep their status), mark fixed the open ones this scan did not
 * find, then recompute the repository's counters. Suppressed findings are not stored; a finding's `triage`, when
 * present, is stored on its vulnerability.
 */
export async function saveFindings(
  repositoryId: string,
  scanId: string,
  findings: readonly (Finding & { readonly triage?: object })[],
  now = new Date(),
): Promise<SaveFindingsResult> {
  const repo = await findRepository(repositoryId);
  if (!repo) throw new NotFoundError(`Repository ${repositoryId} does not exist`);
  const at = now.toISOString();
  const existing = new Map((await vulnerabilitiesOfRepository(repositoryId)).map((v) => [v.fingerprint, v]));
  const seen = new Set<string>();
  const writes: ReturnType<typeof vulnerabilityItem>[] = [];
  const audits: (ItemKey & StatusChange & { entity: string })[] = [];
  const audit = (v: Vulnerability, to: VulnerabilityStatus) => {
    const change: StatusChange = { id: randomUUID(), vulnerabilityId: v.id, userId: v.userId, from: v.status, to, reason: `scan ${scanId}`, actor: 'scan', at };
    audits.push({ pk: `VULN#${v.id}`, sk: `AUDIT#${at}#${change.id}`, ...change, entity: 'VulnerabilityStatusChange' });
  };
  const found: Vulnerability[] = [];
  let created = 0;
  let updated = 0;
  let reopened = 0;
  let fixed = 0;
  for (const finding of findings) {
    if (finding.suppression || seen.has(finding.fingerprint)) continue;
    seen.add(finding.fingerprint);
    const previous = existing.get(finding.fingerprint);
    if (!previous) {
      const vulnerability = fromFinding(finding, { id: randomUUID(), userId: repo.userId, repositoryId, scanId, at });
      writes.push(vulnerabilityItem(vulnerability));
      found.push(vulnerability);
      created++;
      continue;
    }
    const reopen = previous.status === 'fixed';
    if (reopen) audit(previous, 'open');
    const fresh = fromFinding(finding, { id: previous.id, userId: previous.userId, repositoryId, scanId, at });
    const next: Vulnerability = {
      ...fresh,
      status: reopen ? 'open' : previous.status,
      explanation: previous.explanation,
      impact: previous.impact,
      recommendation: fresh.recommendation ?? previous.recommendation,
      fixPullRequest: previous.fixPullRequest,
      detectedAt: previous.detectedAt,
      firstScanId: previous.firstScanId,
      statusReason: reopen ? undefined : previous.statusReason,
      statusChangedAt: reopen ? at : previous.statusChangedAt,
      fixedAt: reopen ? undefined : previous.fixedAt,
      triage: fresh.triage ?? previous.triage,
    };
    writes.push(vulnerabilityItem(next));
    if (reopen) {
      found.push(next);
      reopened++;
    } else {
      updated++;
    }
  }
  for (const previous of existing.values()) {
    if (seen.has(previous.fingerprint) || previous.status !== 'open') continue;
    audit(previous, 'fixed');
    const { pk: _pk, sk: _sk, ...rest } = previous;
    writes.push(vulnerabilityItem({ ...(rest as Vulnerability), status: 'fixed', fixedAt: at, statusChangedAt: at, statusReason: `not found by scan ${scanId}` }));
    fixed++;
  }
  await batchPut([...writes, ...audits]);
  const counters = await recomputeRepositoryCounters(repositoryId, now);
  return { new: created, updated, reopened, fixed, counters, found };
}

/**
 * Change a vulnerability's status (`userId` must own it) and append the change to its audit trail, in one
 * transaction that fails when someone changed the status meanwhile.
 */
export async function changeVulnerabilityStatus(
  vulnerability: Vulnerability,
  to: VulnerabilityStatus,
  reason: string | null,
  now = new Date(),
): Promise<{ vulnerability: Vulnerability; change: StatusChange }> {
  const at = now.toISOString();
  const change: StatusChange = { id: randomUUID(), vulnerabilityId: vulnerability.id, userId: vulnerability.userId, from: vulnerability.status, to, reason, actor: 'user', at };
  const next: Vulnerability = { ...vulnerability, status: to, statusReason: reason ?? undefined, statusChangedAt: at, fixedAt: to === 'fixed' ? at : undefined };
  try {
    await transactWrite([
      {
        Update: {
          Key: vulnerabilityKey(vulnerability.id),
          UpdateExpression: 'SET #status = :to, gsi3sk = :sk, statusChangedAt = :at, statusReason = :reason' + (to === 'fixed' ? ', fixedAt = :at' : ' REMOVE fixedAt'),
          ConditionExpression: 'userId = :owner AND #status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':to': to, ':sk': severitySk(next), ':at': at, ':reason': reason, ':owner': vulnerability.userId, ':from': vulnerability.status },
        },
      },
      { Put: { Item: { pk: `VULN#${vulnerability.id}`, sk: `AUDIT#${at}#${change.id}`, ...change, entity: 'VulnerabilityStatusChange' } } },
    ]);
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') {
      throw new ConflictError('The vulnerability changed meanwhile; read it again and retry', 'STATUS_CHANGED_CONCURRENTLY');
    }
    throw error;
  }
  return { vulnerability: next, change };
}

/** A vulnerability's status changes, oldest first (`VULN#<id>`, sort key begins with `AUDIT#`). */
export async function auditTrail(vulnerabilityId: string): Promise<Item<StatusChange>[]> {
  return queryAll<StatusChange>({ pk: `VULN#${vulnerabilityId}`, skBeginsWith: 'AUDIT#' }, 10_000);
}

/** Delete every vulnerability of a repository with its audit trail and fix pull request records. */
export async function deleteVulnerabilitiesOfRepository(repositoryId: string): Promise<number> {
  const vulns = await vulnerabilitiesOfRepository(repositoryId);
  const keys: ItemKey[] = [];
  const CONCURRENCY = 8;
  for (let i = 0; i < vulns.length; i += CONCURRENCY) {
    const groups = await Promise.all(
      vulns.slice(i, i + CONCURRENCY).map((v) => queryAll<Record<string, unknown>>({ pk: `VULN#${v.id}` }, 100_000)),
    );
    for (const group of groups) for (const item of group) keys.push({ pk: item.pk, sk: item.sk });
  }
  await batchDelete(keys);
  return vulns.length;
}
