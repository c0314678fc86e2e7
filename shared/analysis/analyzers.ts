/** The analyzers a scan runs when the caller names none. */
import { createStructuralAnalyzer, type StructuralAnalyzerOptions } from './structural.ts';
import type { Analyzer } from './types.ts';

export function defaultAnalyzers(options: StructuralAnalyzerOptions = {}): Analyzer[] {
  return [createStructuralAnalyzer(options)];
}
