/**
 * The taint analyzer: per-function data-flow tracking from sources to sinks, with same-file summaries,
 * sanitizers and constant folding. Sources, sinks and sanitizers are data (`specs/<language>.yml`).
 */
import type { Analyzer, FileContext, LanguageId, RawFinding } from '../types.ts';
import { type DynamicLanguage, DynamicAnalysis } from './dynamic.ts';
import { TaintEngine } from './engine.ts';
import { JavaAnalysis } from './java.ts';
import { loadTaintSpec } from './spec.ts';

/** The spec (and adapter) each parsed language uses; TypeScript and TSX share JavaScript's. */
const SPEC_OF: Partial<Record<LanguageId, 'java' | DynamicLanguage>> = {
  java: 'java',
  javascript: 'javascript',
  typescript: 'javascript',
  tsx: 'javascript',
  python: 'python',
  go: 'go',
};

const SUPPORTED = Object.keys(SPEC_OF) as LanguageId[];

export function createTaintAnalyzer(): Analyzer {
  return {
    id: 'taint',
    languages: SUPPORTED,
    analyze(file: FileContext): RawFinding[] {
      const lang = file.language ? SPEC_OF[file.language] : undefined;
      if (!lang) return [];
      const engine = new TaintEngine(loadTaintSpec(lang), file.path);
      // Text searches decide most files before the tree is needed.
      if (!engine.mayFind(file.source)) return [];
      const root = file.root;
      if (!root) return [];
      if (lang === 'java') new JavaAnalysis(engine, root.root()).run();
      else new DynamicAnalysis(engine, root.root(), lang, file.source).run();
      return engine.findings;
    },
  };
}

export { TaintSpecError, validateTaintSpec, loadTaintSpec } from './spec.ts';
