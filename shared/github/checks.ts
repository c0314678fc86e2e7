import type { Finding, Severity } from '../analysis/types.ts';
import { logger } from '../runtime/powertools.ts';
import { installationClient } from './client.ts';

// The pull request check run: one completed "CodeGuardian" run per scanned head commit, annotated with the
// findings that the pull request introduces (never the base branch's existing ones).

export const CHECK_NAME = 'CodeGuardian';
/** GitHub takes at most 50 annotations per request; more go in further updates of the same run. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** Beyond this many the summary says how many more there are (each batch is a write request, throttled). */
export const MAX_ANNOTATIONS = 500;

export type CheckConclusion = 'success' | 'neutral' | 'failure';
export type AnnotationLevel = 'notice' | 'warning' | 'failure';

export interface CheckAnnotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly start_column?: number;
  readonly end_column?: number;
  readonly annotation_level: AnnotationLevel;
  readonly title: string;
  readonly message: string;
}

export interface PullRequestCheckInput {
  readonly installationId: number;
  readonly owner: string;
  readonly repo: string;
  readonly headSha: string;
  readonly scanId: string;
  /** Findings in the head commit that the base commit does not have (by fingerprint). */
  readonly newFindings: readonly Finding[];
  readonly reportUrl?: string;
}

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/**
 * `neutral` without new findings (the check informs, it has nothing to approve), `failure` when a new finding is
 * critical or high (the pull request should not merge as it is), `neutral` when the new findings are medium or
 * below (shown, not blocking).
 */
export function checkConclusion(newFindings: readonly Pick<Finding, 'severity'>[]): CheckConclusion {
  return newFindings.some((f) => f.severity === 'critical' || f.severity === 'high') ? 'failure' : 'neutral';
}

export function annotationLevel(severity: Severity): AnnotationLevel {
  if (severity === 'critical' || severity === 'high') return 'failure';
  return severity === 'medium' ? 'warning' : 'notice';
}

/** A finding as a check annotation: GitHub accepts columns only on single-line annotations. */
export function toAnnotation(finding: Finding): CheckAnnotation {
  const { location } = finding;
  const startLine = Math.max(1, location.startLine);
  const endLine = Math.max(startLine, location.endLine);
  const cwe = finding.cwe.length > 0 ? ` (${finding.cwe.join(', ')})` : '';
  return {
    path: location.path,
    start_line: startLine,
    end_line: endLine,
    ...(startLine === endLine && location.startColumn > 0 && location.endColumn >= location.startColumn
      ? { start_column: location.startColumn, end_column: location.endColumn }
      : {}),
    annotation_level: annotationLevel(finding.severity),
    title: `${finding.severity.toUpperCase()}: ${finding.type}${cwe}`.slice(0, 255),
    message: `${finding.message}\n\nRule: ${finding.ruleId}`.slice(0, 60_000),
  };
}

/** Most severe first, then by place; rule and fingerprint make the order total, so a retry batches alike. */
function bySeverity(a: Finding, b: Finding): number {
  return (
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
    a.location.path.localeCompare(b.location.path) ||
    a.location.startLine - b.location.startLine ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.fingerprint.localeCompare(b.fingerprint)
  );
}

function summaryOf(input: PullRequestCheckInput, shown: number): { title: string; summary: string } {
  const total = input.newFindings.length;
  if (total === 0) {
    return { title: 'No new security findings', summary: 'This pull request introduces no new findings.' + (input.reportUrl ? `\n\n[Full report](${input.reportUrl})` : '') };
  }
  const counts = SEVERITY_ORDER.map((s) => [s, input.newFindings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  const lines = [
    `This pull request introduces ${total} new finding${total === 1 ? '' : 's'}; findings already on the base branch are not shown.`,
    '',
    '| Severity | New |',
    '| --- | --- |',
    ...counts.map(([s, n]) => `| ${s} | ${n} |`),
  ];
  if (shown < total) lines.push('', `The first ${shown} (most severe first) are annotated; the report lists all of them.`);
  if (input.reportUrl) lines.push('', `[Full report](${input.reportUrl})`);
  return { title: `${total} new security finding${total === 1 ? '' : 's'}`, summary: lines.join('\n') };
}

/**
 * Publish the completed check run of a pull request scan. The annotations go 50 per request, in a fixed order
 * (most severe first), so a retried step that finds its run already created sends only the batches an earlier
 * attempt did not: annotations are never doubled nor lost.
 */
export async function publishPullRequestCheck(input: PullRequestCheckInput): Promise<void> {
  const octokit = await installationClient(input.installationId);
  const target = { owner: input.owner, repo: input.repo };
  const annotations = [...input.newFindings].sort(bySeverity).slice(0, MAX_ANNOTATIONS).map(toAnnotation);
  const text = summaryOf(input, annotations.length);
  const batchesFrom = (start: number): CheckAnnotation[][] => {
    const batches: CheckAnnotation[][] = [];
    for (let i = start; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) batches.push(annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
    return batches;
  };
  // GitHub's schema types run ids as int64 (number | bigint); they fit a number.
  const append = async (checkRunId: number | bigint, batches: readonly CheckAnnotation[][]) => {
    for (const batch of batches) {
      await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...target, check_run_id: Number(checkRunId), output: { ...text, annotations: batch } });
    }
  };

  const existing = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', { ...target, ref: input.headSha, check_name: CHECK_NAME, per_page: 100 });
  const published = existing.data.check_runs.find((run) => run.external_id === input.scanId);
  if (published) {
    const sent = published.output.annotations_count;
    const missing = batchesFrom(sent);
    await append(published.id, missing);
    logger.info('Check run already published for this scan', { scanId: input.scanId, checkRunId: published.id, annotationsBefore: sent, requests: missing.length });
    return;
  }

  const batches = batchesFrom(0);
  const created = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
    ...target,
    name: CHECK_NAME,
    head_sha: input.headSha,
    external_id: input.scanId,
    status: 'completed',
    conclusion: checkConclusion(input.newFindings),
    completed_at: new Date().toISOString(),
    ...(input.reportUrl ? { details_url: input.reportUrl } : {}),
    output: { ...text, annotations: batches[0] ?? [] },
  });
  await append(created.data.id, batches.slice(1));
  logger.info('Check run published', { scanId: input.scanId, checkRunId: created.data.id, annotations: annotations.length, requests: Math.max(1, batches.length) });
}
