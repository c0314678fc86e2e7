/**
 * The report step: the scan's JSON and SARIF reports (the same renderers as the CLI) written to the bucket from
 * the findings store and the shards' statistics; their keys go on the scan when it completes.
 */
import type { ScanResult } from '../analysis/scanner.ts';
import { ENGINE_VERSION } from '../analysis/rule-pack.ts';
import { saveScanReports, type ReportFormat } from '../api/scan-reports.ts';
import { findScan } from '../db/scans.ts';
import type { PipelineScan } from '../db/scan-progress.ts';
import { readFindingsParts, readScanFindings } from './findings-store.ts';
import type { ScanPlan } from './plan.ts';
import { keys, requireJson } from './storage.ts';

/** The scan as a scanner result: findings (triage included when present), suppressed ones, files, lines, errors. */
export async function scanResultOf(scanId: string, now = Date.now()): Promise<ScanResult> {
  const [all, parts, plan, scan] = await Promise.all([
    readScanFindings(scanId),
    readFindingsParts(scanId),
    requireJson<ScanPlan>(keys.plan(scanId)),
    findScan(scanId) as Promise<PipelineScan | undefined>,
  ]);
  const started = scan?.scanningAt ?? scan?.startedAt;
  return {
    findings: all.filter((f) => !f.suppression),
    suppressed: all.filter((f) => f.suppression),
    filesScanned: parts.reduce((n, p) => n + p.filesScanned, 0),
    linesScanned: parts.reduce((n, p) => n + p.linesScanned, 0),
    skipped: parts.flatMap((p) => p.skipped),
    errors: parts.flatMap((p) => p.errors),
    durationMs: started ? Math.max(0, now - Date.parse(started)) : 0,
    rulesetVersion: plan.rulesetVersion,
  };
}

export async function writeReports(scanId: string): Promise<Record<ReportFormat, string>> {
  return saveScanReports(scanId, await scanResultOf(scanId), ENGINE_VERSION);
}
