/** The analyzers a scan runs when the caller names none: structural rules, taint tracking and secrets. */
import { createSecretAnalyzer } from './secrets/index.ts';
import { createStructuralAnalyzer, type StructuralAnalyzerOptions } from './structural.ts';
import { createTaintAnalyzer } from './taint/index.ts';
import type { Analyzer } from './types.ts';

export function defaultAnalyzers(options: StructuralAnalyzerOptions = {}): Analyzer[] {
  return [createStructuralAnalyzer(options), createTaintAnalyzer(), createSecretAnalyzer()];
}
