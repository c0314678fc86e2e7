import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import * as v from 'valibot';
import type { Finding, LanguageId } from '../analysis/types.ts';
import { recordActivity } from '../db/activity.ts';
import {
  getFixJob,
  latestFixPullRequest,
  readFixChange,
  isFixPullRequestIndexed,
  type FixChange,
  recordFixPullRequest,
  saveFixChange,
  updateFixAttempt,
  type FixAttemptUpdate,
} from '../db/fix-pull-requests.ts';
import { recordFixFailure } from '../db/jobs.ts';
import { withLease } from '../db/leases.ts';
import { findRepository, type Repository } from '../db/repositories.ts';
import { getScan } from '../db/scans.ts';
import { getVulnerability, type Vulnerability } from '../db/vulnerabilities.ts';
import { installationClient } from '../github/client.ts';
import { NotFoundError } from '../http/errors.ts';
import { publishToUser } from '../realtime/publish.ts';
import { FixStateSchema, type FixJob } from '../runtime/jobs.ts';
import { logger } from '../runtime/powertools.ts';
import { buildFix, platformModelFixer, type ModelFixer } from './build.ts';
import { diffStat, unifiedDiff } from './diff.ts';
import { branchHead, openGithubFixPullRequest, readGithubFile, repoRefOf } from './github.ts';
import { checkFixLimits } from './limits.ts';
import { branchRevision, commitFixBranch, isSafeRepoPath, readFileAtCommit, resolveCommit } from './local-git.ts';
import { reconcileLocalFixBranches } from './local-reconcile.ts';
import { fixBody, fixCommitMessage, fixTitle } from './pull-request-body.ts';
import { fixBranchName } from './pull-requests.ts';
import { validateFix } from './validate.ts';

// The fix workflow's steps: buildFix → validateFix → openPullRequest. A fix that cannot be built, fails
// validation or is over a limit is "not proposed": the step records why on the vulnerability's fix attempt and
// the later steps pass the state through, so the execution ends without a pull request.

/** Files larger than this are not fixed automatically. */
export const MAX_FIX_FILE_BYTES = 512 * 1024;

const OutcomeSchema = v.object({
  status: v.picklist(['proposed', 'not_proposed']),
  code: v.optional(v.string()),
  reason: v.optional(v.string()),
  prUrl: v.optional(v.string()),
  prNumber: v.optional(v.number()),
});
export type FixOutcome = v.InferOutput<typeof OutcomeSchema>;

/** The fix workflow's state: the job plus what the steps add. */
export const FixWorkflowStateSchema = v.looseObject({
  ...FixStateSchema.entries,
  outcome: v.optional(OutcomeSchema),
  evidence: v.optional(v.record(v.string(), v.unknown())),
});
export type FixWorkflowState = v.InferOutput<typeof FixWorkflowStateSchema>;

/** Where and how a step reads sources and opens pull requests; tests inject the model. */
export interface FixStepOptions {
  readonly model?: ModelFixer | null;
  readonly now?: () => Date;
}

async function notProposed(state: FixWorkflowState, code: string, reason: string): Promise<FixWorkflowState> {
  logger.info('Fix not proposed', { fixId: state.fixId, code });
  await updateFixAttempt(state, { status: 'not_proposed', code, reason });
  return { ...state, outcome: { status: 'not_proposed', code, reason } };
}

/** {@link loadTarget}, after a local repository's fix branches were reconciled (a merged branch fixes its vulnerability). */
async function loadReconciledTarget(job: FixJob): ReturnType<typeof loadTarget> {
  const target = await loadTarget(job);
  if ('code' in target || target.repo.provider !== 'local') return target;
  await reconcileLocalFixBranches(target.repo);
  return loadTarget(job);
}

async function loadTarget(job: FixJob): Promise<{ vulnerability: Vulnerability; repo: Repository } | { code: string; reason: string }> {
  let vulnerability: Vulnerability;
  try {
    vulnerability = await getVulnerability(job.userId, job.vulnerabilityId);
  } catch (error) {
    if (error instanceof NotFoundError) return { code: 'VULNERABILITY_NOT_FOUND', reason: 'The vulnerability no longer exists' };
    throw error;
  }
  const repo = await findRepository(vulnerability.repositoryId);
  if (!repo || repo.id !== job.repositoryId || repo.userId !== job.userId) return { code: 'REPOSITORY_NOT_FOUND', reason: 'The repository is no longer connected' };
  if (vulnerability.status !== 'open') return { code: 'VULNERABILITY_NOT_OPEN', reason: `The vulnerability is ${vulnerability.status.replace('_', ' ')}, not open` };
  return { vulnerability, repo };
}

/** Why a vulnerability's previous fix pull request rules out a new one, if it does. */
export async function previousFixVeto(vulnerability: Pick<Vulnerability, 'id' | 'fingerprint'>): Promise<{ code: string; reason: string } | undefined> {
  const previous = await latestFixPullRequest(vulnerability.id);
  if (previous?.status === 'created') return { code: 'FIX_PR_ALREADY_OPEN', reason: `Fix pull request #${previous.prNumber} is still open: ${previous.prUrl}` };
  if (previous?.status === 'closed' && previous.fingerprint === vulnerability.fingerprint) {
    return { code: 'FIX_DECLINED', reason: `Fix pull request #${previous.prNumber} was closed without merging; the fix is proposed again once this code changes` };
  }
  return undefined;
}

/** The commit the fix is built on (the scanned commit when known, else the branch head) and the target branch. */
async function baseOf(repo: Repository, vulnerability: Vulnerability): Promise<{ baseSha: string; baseBranch: string } | undefined> {
  let scanned: { sha?: string; branch: string } = { branch: repo.defaultBranch };
  try {
    const scan = await getScan(repo.userId, vulnerability.lastScanId);
    scanned = { sha: scan.commitSha, branch: scan.branch || repo.defaultBranch };
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  if (repo.provider === 'local') {
    const sha = scanned.sha ? await resolveCommit(localPathOf(repo), scanned.sha) : await resolveCommit(localPathOf(repo), branchRevision(scanned.branch));
    return sha ? { baseSha: sha, baseBranch: scanned.branch } : undefined;
  }
  if (scanned.sha) return { baseSha: scanned.sha, baseBranch: scanned.branch };
  const head = await branchHead(await githubClient(repo), repoRefOf(repo.fullName), scanned.branch);
  return head ? { baseSha: head, baseBranch: scanned.branch } : undefined;
}

function localPathOf(repo: Repository): string {
  if (!repo.localPath) throw new NotFoundError(`Repository ${repo.id} has no local path`);
  return repo.localPath;
}

async function githubClient(repo: Repository) {
  if (!repo.installationId) throw new NotFoundError(`Repository ${repo.fullName} has no GitHub App installation`, 'APP_NOT_INSTALLED');
  return installationClient(repo.installationId);
}

async function readSource(repo: Repository, commit: string, path: string): Promise<Buffer | undefined> {
  if (!isSafeRepoPath(path)) return undefined;
  if (repo.provider === 'local') return readFileAtCommit(localPathOf(repo), commit, path);
  return readGithubFile(await githubClient(repo), repoRefOf(repo.fullName), commit, path);
}

/** buildFix: the vulnerability's file at the base commit, and the rule's rewrite or the model's fix of it. */
export async function buildFixStep(input: FixWorkflowState, options: FixStepOptions = {}): Promise<FixWorkflowState> {
  const state = v.parse(FixWorkflowStateSchema, input);
  if (state.outcome) return state;
  await updateFixAttempt(state, { status: 'building' });
  const target = await loadReconciledTarget(state);
  if ('code' in target) return notProposed(state, target.code, target.reason);
  const { vulnerability, repo } = target;
  const veto = await previousFixVeto(vulnerability);
  if (veto) return notProposed(state, veto.code, veto.reason);
  const limits = await checkFixLimits(repo.id, options.now?.() ?? new Date());
  if (!limits.ok) return notProposed(state, limits.code, limits.reason);

  const base = await baseOf(repo, vulnerability);
  if (!base) return notProposed(state, 'BASE_COMMIT_NOT_FOUND', 'The scanned commit or branch is no longer in the repository');
  const bytes = await readSource(repo, base.baseSha, vulnerability.filePath);
  if (!bytes) return notProposed(state, 'FILE_NOT_FOUND', `${vulnerability.filePath} is not a file at ${base.baseSha.slice(0, 12)}`);
  if (bytes.length > MAX_FIX_FILE_BYTES) return notProposed(state, 'FILE_TOO_LARGE', `${vulnerability.filePath} is larger than ${MAX_FIX_FILE_BYTES / 1024} KB`);
  const before = bytes.toString('utf8');

  const model = options.model === undefined ? platformModelFixer({ userId: state.userId }) : (options.model ?? undefined);
  const built = await buildFix(vulnerability, before, model);
  if (!built.ok) return notProposed(state, built.code, built.reason);
  const stored = await saveFixChange(state.fixId, {
    path: vulnerability.filePath,
    language: built.language,
    baseSha: base.baseSha,
    baseBranch: base.baseBranch,
    before,
    after: built.after,
    description: built.description,
    source: built.source,
    confidence: built.confidence,
    finding: JSON.stringify(built.finding),
  });
  if (!stored) return notProposed(state, 'FILE_TOO_LARGE', 'The change is too large to keep between steps');
  await updateFixAttempt(state, { source: built.source, confidence: built.confidence });
  return state;
}

/** validateFix: the change parses, removes the finding, adds none and stays small; otherwise it is not proposed. */
export async function validateFixStep(input: FixWorkflowState): Promise<FixWorkflowState> {
  const state = v.parse(FixWorkflowStateSchema, input);
  if (state.outcome) return state;
  await updateFixAttempt(state, { status: 'validating' });
  const change = await readFixChange(state.fixId);
  const result = await validateFix({
    path: change.path,
    language: change.language as LanguageId,
    before: change.before,
    after: change.after,
    finding: JSON.parse(change.finding) as Finding,
  });
  if (!result.ok) return notProposed(state, result.code, `The fix did not pass validation: ${result.reason}`);
  const evidence = { ...result.evidence };
  await updateFixAttempt(state, { evidence });
  return { ...state, evidence };
}

/** The lease under which a repository's fix pull requests are counted and opened one at a time. */
export const fixPullRequestLeaseName = (repositoryId: string) => `REPO#${repositoryId}#FIXPR`;

/** Longer than opening a pull request can take inside the step's 60 s; a waiter gives up after 30 s (the step retries). */
const FIX_PR_LEASE = { ttlMs: 90_000, waitMs: 30_000 } as const;

/** How long the holder waits for the eventually consistent index to list the pull request it recorded. */
const INDEX_WAIT_MS = 5_000;

/** Opens the fix: a branch with one commit and its pull request on GitHub, the branch alone in a local repository. */
async function openFix(state: FixWorkflowState, evidence: NonNullable<FixWorkflowState['evidence']>, repo: Repository, vulnerability: Vulnerability, change: FixChange, branch: string, now: Date) {
  const diff = unifiedDiff(change.path, change.before, change.after);
  const description = {
    vulnerabilityId: vulnerability.id,
    type: vulnerability.type,
    ruleId: vulnerability.ruleId,
    severity: vulnerability.severity,
    cweId: vulnerability.cweId,
    filePath: change.path,
    lineNumber: vulnerability.lineNumber,
    problem: vulnerability.description,
    explanation: change.description,
    diff,
    source: change.source,
    confidence: change.confidence,
    evidence: { ...evidence, changedLines: evidence.changedLines ?? diffStat(diff).added + diffStat(diff).removed },
  };
  if (repo.provider === 'local') {
    const path = localPathOf(repo);
    const { headSha } = await commitFixBranch({
      repo: path,
      baseSha: change.baseSha,
      branch,
      path: change.path,
      content: change.after,
      message: fixCommitMessage(description),
      date: (await requestedAtOf(state)) ?? now.toISOString(),
    });
    // A local repository has no pull requests: the branch is the proposal, numbered 0.
    return { number: 0, url: `${pathToFileURL(path).href}#${branch}`, headSha };
  }
  return openGithubFixPullRequest(await githubClient(repo), repoRefOf(repo.fullName), {
    baseSha: change.baseSha,
    baseBranch: change.baseBranch,
    branch,
    path: change.path,
    content: change.after,
    commitMessage: fixCommitMessage(description),
    title: fixTitle(vulnerability.type),
    body: fixBody(description),
  });
}

/** openPullRequest: the branch with one commit and the pull request (GitHub) or the branch (local repository). */
export async function openPullRequestStep(input: FixWorkflowState, options: FixStepOptions = {}): Promise<FixWorkflowState> {
  const state = v.parse(FixWorkflowStateSchema, input);
  if (state.outcome) return state;
  const { evidence } = state;
  if (!evidence) throw new TypeError('openPullRequest needs the validation evidence of validateFix');
  const previous = await latestFixPullRequest(state.vulnerabilityId);
  if (previous?.fixId === state.fixId) {
    // A repeated step whose pull request was opened and recorded already.
    return { ...state, outcome: { status: 'proposed', prUrl: previous.prUrl, prNumber: previous.prNumber } };
  }
  await updateFixAttempt(state, { status: 'opening' });
  const target = await loadReconciledTarget(state);
  if ('code' in target) return notProposed(state, target.code, target.reason);
  const { vulnerability, repo } = target;
  const veto = await previousFixVeto(vulnerability);
  if (veto) return notProposed(state, veto.code, veto.reason);
  const change = await readFixChange(state.fixId);
  const branch = fixBranchName(vulnerability.id);
  // The limit check, the opening and its record happen under the repository's lease, so concurrent fixes
  // cannot each see room for one more pull request and all open one.
  const result = await withLease(fixPullRequestLeaseName(repo.id), state.fixId, FIX_PR_LEASE, async () => {
    const now = options.now?.() ?? new Date();
    const limits = await checkFixLimits(repo.id, now);
    if (!limits.ok) return limits;
    const opened = await openFix(state, evidence, repo, vulnerability, change, branch, now);
    const record = await recordFixPullRequest({
      vulnerabilityId: vulnerability.id,
      repositoryId: repo.id,
      prNumber: opened.number,
      prUrl: opened.url,
      status: 'created',
      branch,
      baseSha: change.baseSha,
      headSha: opened.headSha,
      filePath: change.path,
      fingerprint: vulnerability.fingerprint,
      fixId: state.fixId,
      confidence: change.confidence,
    });
    // The next holder counts through the repository's index: hold on until the record is in it.
    const until = Date.now() + INDEX_WAIT_MS;
    while (!(await isFixPullRequestIndexed(record)) && Date.now() < until) await sleep(100);
    return { ok: true as const, opened };
  });
  if (!result.ok) return notProposed(state, result.code, result.reason);
  const { opened } = result;
  await updateFixAttempt(state, { status: 'proposed', code: null, reason: null });
  await recordActivity(repo.userId, {
    type: 'fix_pr_created',
    message: repo.provider === 'local' ? `Fix for ${vulnerability.type} in ${change.path} committed on branch ${branch}` : `Fix pull request #${opened.number} opened for ${vulnerability.type} in ${change.path}`,
    repositoryId: repo.id,
    vulnerabilityId: vulnerability.id,
    data: { prUrl: opened.url, prNumber: opened.number, branch, confidence: change.confidence },
  });
  await publishToUser(repo.userId, 'fix:applied', { vulnId: vulnerability.id, prUrl: opened.url, confidence: change.confidence });
  return { ...state, outcome: { status: 'proposed', prUrl: opened.url, prNumber: opened.number } };
}

async function requestedAtOf(state: FixWorkflowState): Promise<string | undefined> {
  return (await getFixJob(state.fixId))?.requestedAt;
}

/** The workflow's catch: the fix job and the vulnerability's attempt are marked failed with the reason. */
export async function failFixStep(state: FixJob, reason: string): Promise<void> {
  const update: FixAttemptUpdate = { status: 'failed', code: 'FIX_FAILED', reason };
  await updateFixAttempt(state, update);
  await recordFixFailure(state.fixId, reason).catch((error: unknown) => {
    if (!(error instanceof NotFoundError)) throw error;
  });
}
