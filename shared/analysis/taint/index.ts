/**
 * The taint analyzer: per-function data-flow tracking from sources to sinks, with same-file summaries,
 * sanitizers and constant folding. Sources, sinks and sanitizers are data (`specs/<language>.yml`).
 */
import type { Analyzer, FileContext, LanguageId, RawFinding } from '../types.ts';
import { TaintEngine } from './engine.ts';
import { JavaAnalysis } from './java.ts';
import { loadTaintSpec } from './spec.ts';

const SUPPORTED: readonly LanguageId[] = ['java'];

export function createTaintAnalyzer(): Analyzer {
  return {
    id: 'taint',
    languages: SUPPORTED,
    analyze(file: FileContext): RawFinding[] {
      if (!file.root || file.language !== 'java') return [];
      const engine = new TaintEngine(loadTaintSpec('java'), file.path);
      if (!engine.mayFind(file.source)) return [];
      new JavaAnalysis(engine, file.root.root()).run();
      return engine.findings;
    },
  };
}

export { TaintSpecError, validateTaintSpec, loadTaintSpec } from './spec.ts';
