import type { ActivityEntry } from '../db/activity.ts';
import type { Repository, RepositoryListEntry } from '../db/repositories.ts';
import type { Scan } from '../db/scans.ts';
import type { StatusChange, Vulnerability, VulnerabilityListEntry } from '../db/vulnerabilities.ts';

// Stored items → API answers. Item keys and index attributes never leave the service; the field lists below are
// the first seed's response formats.

/** One entry of the seed's "Repository List Response". */
export function toRepositorySummary(r: RepositoryListEntry) {
  return {
    id: r.id,
    name: r.name,
    fullName: r.fullName,
    owner: r.owner,
    private: r.private,
    language: r.language,
    totalVulnerabilities: r.totalVulnerabilities,
    criticalCount: r.criticalCount,
    highCount: r.highCount,
    mediumCount: r.mediumCount,
    lowCount: r.lowCount,
    securityScore: r.securityScore,
    scanStatus: r.scanStatus,
    lastScanAt: r.lastScanAt,
    autoScanEnabled: r.autoScanEnabled,
    autoFixEnabled: r.autoFixEnabled,
  };
}

/** A repository with its settings and source, for `GET /repositories/:id` and the answers that change it. */
export function toRepositoryDetail(r: Repository) {
  return {
    ...toRepositorySummary(r),
    provider: r.provider,
    defaultBranch: r.defaultBranch,
    infoCount: r.infoCount,
    scanBranches: [...r.scanBranches],
    severityThreshold: r.severityThreshold,
    lastScanId: r.lastScanId,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** The seed's "Vulnerability Detail Response"; list entries use the same shape. */
export function toVulnerabilityResponse(v: VulnerabilityListEntry) {
  return {
    id: v.id,
    repositoryId: v.repositoryId,
    type: v.type,
    severity: v.severity,
    status: v.status,
    filePath: v.filePath,
    lineNumber: v.lineNumber,
    codeSnippet: v.codeSnippet,
    description: v.description,
    explanation: v.explanation,
    impact: v.impact,
    recommendation: v.recommendation,
    cweId: v.cweId,
    owasp: v.owasp,
    cvssScore: v.cvssScore,
    autoFixAvailable: v.autoFixAvailable,
    fixConfidence: v.fixConfidence,
    fixPullRequest: v.fixPullRequest
      ? { prNumber: v.fixPullRequest.prNumber, prUrl: v.fixPullRequest.prUrl, status: v.fixPullRequest.status, createdAt: v.fixPullRequest.createdAt }
      : null,
    detectedAt: v.detectedAt,
  };
}

export function toStatusChangeResponse(c: StatusChange) {
  return { id: c.id, from: c.from, to: c.to, reason: c.reason, actor: c.actor, at: c.at };
}

export function toScanResponse(s: Scan) {
  return {
    id: s.id,
    repositoryId: s.repositoryId,
    repositoryName: s.repositoryName,
    status: s.status,
    trigger: s.trigger,
    branch: s.branch,
    commitSha: s.commitSha ?? null,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
    progress: { ...s.progress },
    summary: s.summary ? { ...s.summary } : null,
    reportFormats: (['json', 'sarif'] as const).filter((f) => s.reports?.[f] !== undefined),
    failureReason: s.failureReason ?? null,
  };
}

export function toActivityResponse(e: ActivityEntry) {
  return {
    id: e.id,
    type: e.type,
    message: e.message,
    repositoryId: e.repositoryId ?? null,
    scanId: e.scanId ?? null,
    vulnerabilityId: e.vulnerabilityId ?? null,
    data: e.data ?? {},
    createdAt: e.createdAt,
  };
}

/** The `data` of the seed's `vulnerability:found` WebSocket event. */
export function toVulnerabilityFoundData(v: Pick<Vulnerability, 'id' | 'repositoryId' | 'type' | 'severity' | 'filePath' | 'lineNumber'>) {
  return {
    repositoryId: v.repositoryId,
    vulnerability: { id: v.id, type: v.type, severity: v.severity, file: v.filePath, line: v.lineNumber },
  };
}
