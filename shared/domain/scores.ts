/**
 * Security score (0–100, per repository) and risk score (0–1, across repositories). Formulas are documented in
 * docs/scoring.md; both are pure functions of open-finding counts so they can be recomputed at any time.
 */
export type ScoredSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export type SeverityCounts = Partial<Record<ScoredSeverity, number>>;

/** Penalty weight of one severity level. */
export const SEVERITY_WEIGHTS: Readonly<Record<ScoredSeverity, number>> = { critical: 10, high: 5, medium: 2, low: 0.5, info: 0 };

/** Penalty at which the security score falls to 100/e ≈ 37. */
export const SECURITY_SCALE = 25;
/** Penalty at which the exposure factor of the risk score reaches 1 − 1/e ≈ 0.63. */
export const RISK_SCALE = 50;
export const STALE_AFTER_DAYS = 30;

const SEVERITIES = Object.keys(SEVERITY_WEIGHTS) as ScoredSeverity[];

function count(counts: SeverityCounts, severity: ScoredSeverity): number {
  const n = counts[severity] ?? 0;
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`finding count for ${severity} must be a non-negative number, got ${n}`);
  return Math.floor(n);
}

/**
 * Severity-weighted penalty with diminishing returns in the count: each severity contributes
 * weight × log2(1 + count), so the first findings of a kind weigh most and a flood does not swamp the rest.
 */
export function penalty(counts: SeverityCounts): number {
  return SEVERITIES.reduce((sum, s) => sum + SEVERITY_WEIGHTS[s] * Math.log2(1 + count(counts, s)), 0);
}

/** 100 with no open findings, falling smoothly towards 0: round(100 · e^(−penalty / 25)). */
export function securityScore(counts: SeverityCounts): number {
  return Math.round(100 * Math.exp(-penalty(counts) / SECURITY_SCALE));
}

export interface RepositoryRiskInput {
  readonly counts: SeverityCounts;
  /** Open critical and high findings older than STALE_AFTER_DAYS; defaults to 0. */
  readonly staleHighOrCritical?: number;
}

export interface RiskFactor {
  readonly name: 'exposure' | 'breadth' | 'staleness';
  /** 0–1. */
  readonly value: number;
  readonly weight: number;
  /** value × weight: the factor's share of the score. */
  readonly contribution: number;
  readonly description: string;
}

export interface RiskScore {
  /** 0–1, rounded to three decimals. */
  readonly score: number;
  readonly level: 'low' | 'medium' | 'high' | 'critical';
  readonly factors: readonly RiskFactor[];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function riskScore(repositories: readonly RepositoryRiskInput[]): RiskScore {
  const total: Record<ScoredSeverity, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  let exposedRepos = 0;
  let severe = 0;
  let stale = 0;
  for (const repo of repositories) {
    for (const s of SEVERITIES) total[s] += count(repo.counts, s);
    const repoSevere = count(repo.counts, 'critical') + count(repo.counts, 'high');
    if (repoSevere > 0) exposedRepos++;
    severe += repoSevere;
    const repoStale = repo.staleHighOrCritical ?? 0;
    if (!Number.isFinite(repoStale) || repoStale < 0) throw new RangeError(`staleHighOrCritical must be a non-negative number, got ${repoStale}`);
    stale += Math.min(repoStale, repoSevere);
  }
  const exposure = 1 - Math.exp(-penalty(total) / RISK_SCALE);
  const breadth = repositories.length === 0 ? 0 : exposedRepos / repositories.length;
  const staleness = severe === 0 ? 0 : stale / severe;
  const factors: RiskFactor[] = [
    { name: 'exposure', value: exposure, weight: 0.6, contribution: 0, description: 'Severity-weighted open findings, with diminishing returns in the count' },
    { name: 'breadth', value: breadth, weight: 0.25, contribution: 0, description: 'Share of repositories with an open critical or high finding' },
    { name: 'staleness', value: staleness, weight: 0.15, contribution: 0, description: `Share of critical and high findings open longer than ${STALE_AFTER_DAYS} days` },
  ].map((f) => ({ ...f, value: round3(f.value), contribution: round3(f.value * f.weight) }) as RiskFactor);
  const score = round3(Math.min(1, Math.max(0, factors.reduce((sum, f) => sum + f.value * f.weight, 0))));
  const level = score >= 0.75 ? 'critical' : score >= 0.5 ? 'high' : score >= 0.25 ? 'medium' : 'low';
  return { score, level, factors };
}
