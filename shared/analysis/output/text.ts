/** The human report: findings grouped by file, worst first within each file; colour only when asked. */
import { severityRank } from '../config.ts';
import type { ScanResult } from '../scanner.ts';
import type { Finding, Severity } from '../types.ts';

const COLOURS: Record<Severity, string> = { critical: '\x1b[1;31m', high: '\x1b[31m', medium: '\x1b[33m', low: '\x1b[36m', info: '\x1b[2m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';

export interface TextOptions {
  readonly colour: boolean;
}

export function toTextReport(result: ScanResult, options: TextOptions): string {
  const paint = (code: string, text: string) => (options.colour ? `${code}${text}${RESET}` : text);
  const byFile = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const list = byFile.get(f.location.path) ?? [];
    list.push(f);
    byFile.set(f.location.path, list);
  }
  const lines: string[] = [];
  for (const [path, findings] of byFile) {
    lines.push(paint(BOLD, path));
    findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.location.startLine - b.location.startLine);
    for (const f of findings) {
      const where = `${f.location.startLine}:${f.location.startColumn}`.padEnd(8);
      lines.push(`  ${where} ${paint(COLOURS[f.severity], f.severity.toUpperCase().padEnd(8))} ${f.type} ${paint(DIM, `(${f.ruleId}${f.cwe.length ? `, ${f.cwe.join(', ')}` : ''})`)}`);
      lines.push(`           ${f.message}`);
      const snippet = f.snippet.split('\n')[0]?.trim();
      if (snippet) lines.push(`           ${paint(DIM, snippet.length > 120 ? `${snippet.slice(0, 117)}...` : snippet)}`);
      if (f.fix) lines.push(`           ${paint(DIM, `fix available: ${f.fix.description}`)}`);
    }
    lines.push('');
  }
  const counts = (['critical', 'high', 'medium', 'low', 'info'] as const)
    .map((s) => [s, result.findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paint(COLOURS[s], `${n} ${s}`));
  const summary = result.findings.length === 0 ? 'No findings.' : `${result.findings.length} finding${result.findings.length === 1 ? '' : 's'}: ${counts.join(', ')}.`;
  lines.push(summary);
  lines.push(
    paint(
      DIM,
      `${result.filesScanned} files, ${result.linesScanned} lines in ${result.durationMs} ms; ${result.suppressed.length} suppressed, ${result.skipped.length} skipped, ${result.errors.length} errors; ruleset ${result.rulesetVersion}`,
    ),
  );
  for (const e of result.errors) lines.push(paint(DIM, `error: ${e.path}${e.analyzer ? ` [${e.analyzer}]` : ''}: ${e.message}`));
  return `${lines.join('\n')}\n`;
}
