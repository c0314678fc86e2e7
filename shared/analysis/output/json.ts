/** The JSON report: the scan result as data, with a format version for consumers. */
import type { ScanResult } from '../scanner.ts';

export const JSON_REPORT_VERSION = 1;

export function toJsonReport(result: ScanResult, toolVersion: string): string {
  const counts: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of result.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
  return `${JSON.stringify(
    {
      version: JSON_REPORT_VERSION,
      tool: { name: 'CodeGuardian', version: toolVersion, rulesetVersion: result.rulesetVersion },
      summary: {
        findings: result.findings.length,
        suppressed: result.suppressed.length,
        bySeverity: counts,
        filesScanned: result.filesScanned,
        linesScanned: result.linesScanned,
        durationMs: result.durationMs,
      },
      findings: result.findings,
      suppressed: result.suppressed,
      skipped: result.skipped,
      errors: result.errors,
    },
    null,
    2,
  )}\n`;
}
