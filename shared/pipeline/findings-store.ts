/**
 * A scan's findings between analysis and persistence. Each shard (and the cache hits found while planning)
 * writes one part, `scans/<scanId>/findings/<part>.json`; a step that rewrites the findings (triage) writes the
 * whole set to `scans/<scanId>/findings.json`, which from then on is what every later step reads. Suppressed
 * findings are kept, marked by `suppression`, so reports can record them; persistence skips them.
 */
import type { SkippedFile } from '../analysis/files.ts';
import type { ScanError } from '../analysis/scanner.ts';
import type { Finding } from '../analysis/types.ts';
import { getJson, keys, listKeys, putJson, requireJson } from './storage.ts';

/** A finding as the pipeline carries it: optionally with the model's triage, which persist stores as it is. */
export type ScanFinding = Finding & { readonly triage?: object };

/** What one shard (or the cache) contributed. */
export interface FindingsPart {
  readonly part: string;
  readonly findings: ScanFinding[];
  readonly filesScanned: number;
  readonly linesScanned: number;
  readonly skipped: SkippedFile[];
  readonly errors: ScanError[];
}

interface StoredFindings {
  readonly findings: readonly ScanFinding[];
}

function compare(a: Finding, b: Finding): number {
  return (
    a.location.path.localeCompare(b.location.path) ||
    a.location.startLine - b.location.startLine ||
    a.location.startColumn - b.location.startColumn ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

/** Record one part (a shard's results, or the cached results). */
export async function writeFindingsPart(scanId: string, part: FindingsPart): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(part.part)) throw new Error(`Invalid findings part name ${part.part}`);
  await putJson(keys.findingsPart(scanId, part.part), part);
}

/** Every part written for the scan, in key order. */
export async function readFindingsParts(scanId: string): Promise<FindingsPart[]> {
  const partKeys = await listKeys(keys.findingsPrefix(scanId));
  return Promise.all(partKeys.map((key) => requireJson<FindingsPart>(key)));
}

/** The scan's findings (suppressed ones included, marked), in path and line order. */
export async function readScanFindings(scanId: string): Promise<ScanFinding[]> {
  const rewritten = await getJson<StoredFindings>(keys.findings(scanId));
  if (rewritten) return [...rewritten.findings];
  const parts = await readFindingsParts(scanId);
  return parts.flatMap((p) => p.findings).sort(compare);
}

/** Replace the scan's findings as a whole (the triage step writes them back with `triage` added). */
export async function writeScanFindings(scanId: string, findings: readonly ScanFinding[]): Promise<void> {
  await putJson(keys.findings(scanId), { findings } satisfies StoredFindings);
}
