/**
 * The scan workflow's model pass, between analysis and persistence: triage of the scan's findings with the code
 * around their sources and sinks, then discovery in the changed regions of a push or pull request. The findings
 * go back to the store unchanged except for an added `triage`, plus any model-found ones; nothing is removed.
 * Without a model the pass is skipped and the findings are not touched.
 */
import type { Finding } from '../analysis/types.ts';
import { recordScanModelPass, type ScanModelPass } from '../db/model-usage.ts';
import { logger } from '../runtime/powertools.ts';
import type { SourceFiles } from './context.ts';
import { discoverInChangedCode, type ChangedFile, type DiscoveryReport } from './discovery.ts';
import { MODEL_ENV, modelConfigured, tokenBudgets } from './models.ts';
import type { ModelContext } from './run.ts';
import { triageFindings, type TriageReport } from './triage.ts';

/** Where a scan's findings live between steps (the pipeline's findings store). */
export interface ScanFindingsStore {
  read(scanId: string): Promise<Finding[]>;
  write(scanId: string, findings: readonly Finding[]): Promise<void>;
}

/** The scanned commit's code, read only where the model needs it. */
export interface ScanSources {
  /** The contents of these paths (paths that cannot be read are left out). */
  files(paths: readonly string[]): Promise<SourceFiles>;
  /** The changed regions of this scan (pushes and pull requests); empty when there are none or they are unknown. */
  changed(): Promise<readonly ChangedFile[]>;
}

export interface ScanTriageInput {
  readonly scanId: string;
  readonly userId: string;
}

export interface ScanTriageOptions {
  readonly store: ScanFindingsStore;
  readonly sources: ScanSources;
  /** Provider, models, budgets, cache and ledger; the platform's by default. */
  readonly context?: Omit<ModelContext, 'scope'>;
  readonly now?: () => Date;
}

/** Suppressed findings and the model's own are not triaged. */
const wantsTriage = (f: Finding): boolean => f.suppression === undefined && f.kind !== 'model';

/** Every file a finding's triage looks at: its own and those of its data-flow steps. */
export function triagePaths(findings: readonly Finding[]): string[] {
  const paths = new Set<string>();
  for (const f of findings) {
    if (!wantsTriage(f)) continue;
    paths.add(f.location.path);
    for (const step of f.dataflow ?? []) paths.add(step.path);
  }
  return [...paths].sort();
}

function budgetMessage(notTriaged: number): string {
  const budgets = tokenBudgets();
  return (
    `Model calls stopped because a token budget was spent (scan: ${MODEL_ENV.scanTokenBudget}=${budgets.scanTokens}, ` +
    `daily per user: ${MODEL_ENV.dailyTokenBudget}=${budgets.dailyTokens}); ${notTriaged} finding(s) were not triaged. ` +
    'Findings are stored either way; raise the budget or wait for the next day to triage the rest.'
  );
}

function passOf(triage: TriageReport, discovery: DiscoveryReport | undefined, discovered: number, at: string): ScanModelPass {
  const exhausted = triage.status === 'budget_exhausted' || discovery?.status === 'budget_exhausted';
  const partial = triage.status === 'partial' || discovery?.status === 'partial';
  const counts = { triaged: triage.counts.triaged, cached: triage.counts.cached, failed: triage.counts.failed, notTriaged: triage.counts.notTriaged, discovered, at };
  if (exhausted) return { status: 'budget_exhausted', message: budgetMessage(triage.counts.notTriaged), ...counts };
  if (partial) {
    const codes = [...new Set([...triage.failures.map((f) => f.code), ...(discovery?.failures ?? []).map((f) => f.code)])];
    return {
      status: 'partial',
      message: `The model could not answer for ${triage.counts.failed + (discovery?.failures.length ?? 0)} item(s) (${codes.join(', ') || 'unknown'}); those findings are stored untriaged.`,
      ...counts,
    };
  }
  const cachedNote = triage.counts.cached > 0 ? ` (${triage.counts.cached} from the cache, no model call)` : '';
  return { status: 'complete', message: `Model triage of ${triage.counts.triaged} finding(s)${cachedNote}; ${discovered} found by the model in changed code.`, ...counts };
}

/** Model-found findings not already known by fingerprint. */
function newFindings(known: readonly Finding[], found: readonly Finding[]): Finding[] {
  const seen = new Set(known.map((f) => f.fingerprint));
  const out: Finding[] = [];
  for (const f of found) {
    if (seen.has(f.fingerprint)) continue;
    seen.add(f.fingerprint);
    out.push(f);
  }
  return out;
}

/**
 * Run the model pass of a scan and record what it did on the scan's usage item. Failures of the model never fail
 * the scan: the findings stay as the analysis left them and the pass is recorded `failed` with the reason.
 */
export async function triageScan(input: ScanTriageInput, options: ScanTriageOptions): Promise<ScanModelPass> {
  const at = (options.now?.() ?? new Date()).toISOString();
  const empty = { triaged: 0, cached: 0, failed: 0, notTriaged: 0, discovered: 0, at };
  const models = options.context?.models;
  if (!(models?.fast ?? models?.main) && !modelConfigured('fast')) {
    const pass: ScanModelPass = { status: 'skipped', message: `No model is configured (${MODEL_ENV.main}); findings were stored without model triage.`, ...empty };
    await recordScanModelPass(input.scanId, pass);
    return pass;
  }

  const findings = await options.store.read(input.scanId);
  const ctx: ModelContext = { ...options.context, scope: { scanId: input.scanId, userId: input.userId } };
  let pass: ScanModelPass;
  let output: Finding[] | undefined;
  try {
    const files = await options.sources.files(triagePaths(findings));
    const triage = await triageFindings(findings, files, ctx);
    let discovery: DiscoveryReport | undefined;
    if (triage.status !== 'budget_exhausted' && (models?.main !== undefined || modelConfigured('main'))) {
      const changed = await options.sources.changed();
      if (changed.length > 0) discovery = await discoverInChangedCode(changed, findings, ctx);
    }
    const discovered = newFindings(findings, discovery?.findings ?? []);
    output = [...triage.findings, ...discovered];
    pass = passOf(triage, discovery, discovered.length, at);
  } catch (error) {
    logger.error('The model pass of a scan failed; its findings are kept as analysed', { scanId: input.scanId, error: error as Error });
    pass = { status: 'failed', message: 'The model pass could not run; findings were stored without model triage.', ...empty, notTriaged: findings.filter(wantsTriage).length };
  }
  if (output) await options.store.write(input.scanId, output);
  await recordScanModelPass(input.scanId, pass);
  return pass;
}
