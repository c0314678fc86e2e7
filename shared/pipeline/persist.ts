/**
 * The persist step. A scan of the default branch is the repository's truth: its findings are stored by
 * fingerprint (new, still open, reopened; open ones it no longer finds become `fixed`; ignored and false-positive
 * ones keep their status), counters and security score are recomputed, and `vulnerability:found` goes out for
 * what is new. A pull-request or other-branch scan never touches the stored findings: it only works out which of
 * its findings are new relative to the default branch, for the check run and the summary.
 */
import { toVulnerabilityFoundData } from '../api/mappers.ts';
import { atOrAbove } from '../analysis/config.ts';
import { findRepository, type Repository } from '../db/repositories.ts';
import type { ScanSummary } from '../db/scans.ts';
import { saveFindings, vulnerabilitiesOfRepository, type Vulnerability } from '../db/vulnerabilities.ts';
import { publishToUser } from '../realtime/publish.ts';
import type { ScanState } from '../runtime/jobs.ts';
import { saveCacheSnapshot } from './analysis-cache.ts';
import { ScanRefusedError } from './errors.ts';
import { readScanFindings, type ScanFinding } from './findings-store.ts';
import type { ScanPlan } from './plan.ts';
import { keys, putJson, requireJson } from './storage.ts';

/** `vulnerability:found` events per scan; past it the count is in `scan:completed` and the dashboard reloads. */
export const MAX_FOUND_EVENTS = 50;
const EVENT_CONCURRENCY = 5;
/** Auto-fix candidates carried to the finish step (the per-repository limits allow far fewer per day). */
export const MAX_FIX_CANDIDATES = 100;

export interface PersistResult {
  readonly summary: ScanSummary;
  /** True when the scan updated the repository's findings (a default-branch scan). */
  readonly persisted: boolean;
  /** PR and branch scans: where the findings new relative to the default branch are kept. */
  readonly newFindingsKey?: string;
  /** Default-branch scans: new or reopened vulnerabilities that have a rewrite fix, most severe first. */
  readonly fixCandidates: string[];
  readonly eventsSent: number;
}

/** Reportable findings: not suppressed, one per fingerprint. */
export function reportable(findings: readonly ScanFinding[]): ScanFinding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    if (f.suppression || seen.has(f.fingerprint)) return false;
    seen.add(f.fingerprint);
    return true;
  });
}

function summarize(findings: readonly ScanFinding[], counts: { new: number; fixed: number }): ScanSummary {
  const summary = { critical: 0, high: 0, medium: 0, low: 0, info: 0, total: findings.length, ...counts };
  for (const f of findings) summary[f.severity] += 1;
  return summary;
}

/** Whether a scan of `branch` (or of the default branch when none is named) decides the repository's findings. */
export function isDefaultBranchScan(state: Pick<ScanState, 'branch' | 'pullRequestNumber'>, repo: Pick<Repository, 'defaultBranch'>): boolean {
  return state.pullRequestNumber === undefined && (state.branch === undefined || state.branch === repo.defaultBranch);
}

async function publishFound(userId: string, found: readonly Vulnerability[]): Promise<number> {
  const batch = found.slice(0, MAX_FOUND_EVENTS);
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < batch.length) {
      const v = batch[next++] as Vulnerability;
      await publishToUser(userId, 'vulnerability:found', { ...toVulnerabilityFoundData(v), scanId: v.lastScanId });
      sent++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(EVENT_CONCURRENCY, batch.length) }, worker));
  return sent;
}

const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3, info: 4 } as const;

export async function persistFindings(state: ScanState): Promise<PersistResult> {
  const repo = await findRepository(state.repositoryId);
  if (!repo) throw new ScanRefusedError('The repository is no longer connected', 'REPOSITORY_NOT_FOUND');
  const findings = reportable(await readScanFindings(state.scanId));

  if (!isDefaultBranchScan(state, repo)) {
    const known = new Set((await vulnerabilitiesOfRepository(repo.id)).filter((v) => v.status !== 'fixed').map((v) => v.fingerprint));
    const fresh = findings.filter((f) => !known.has(f.fingerprint));
    const newFindingsKey = keys.newFindings(state.scanId);
    await putJson(newFindingsKey, fresh);
    return { summary: summarize(findings, { new: fresh.length, fixed: 0 }), persisted: false, newFindingsKey, fixCandidates: [], eventsSent: 0 };
  }

  const saved = await saveFindings(repo.id, state.scanId, findings);
  // The default branch's files are what later scans mostly share: their results become the repository's cache.
  await saveCacheSnapshot(state.scanId, repo.id, await requireJson<ScanPlan>(keys.plan(state.scanId)));
  const eventsSent = await publishFound(repo.userId, saved.found);
  const fixCandidates = saved.found
    .filter((v) => v.status === 'open' && v.autoFixAvailable && atOrAbove(v.severity, repo.severityThreshold))
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .slice(0, MAX_FIX_CANDIDATES)
    .map((v) => v.id);
  return { summary: summarize(findings, { new: saved.new, fixed: saved.fixed }), persisted: true, fixCandidates, eventsSent };
}
