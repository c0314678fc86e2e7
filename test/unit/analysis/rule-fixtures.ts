/** Reads Semgrep-style annotated rule fixtures: `ruleid: <id>` / `ok: <id>` comment lines above code lines. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledRule } from '../../../shared/analysis/rule-pack.ts';
import type { LanguageId } from '../../../shared/analysis/types.ts';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/rules/', import.meta.url));

const EXTENSIONS: Record<LanguageId, string> = { javascript: 'js', typescript: 'ts', tsx: 'tsx', python: 'py', java: 'java', go: 'go' };

export interface Fixture {
  readonly path: string;
  readonly language: LanguageId;
  readonly source: string;
  readonly expected: number[];
  readonly ok: number[];
}

/** The fixture of a rule: the first existing file among the rule's languages, in the order they are listed. */
export function fixtureFor(rule: CompiledRule): Fixture | undefined {
  const dir = rule.file.split('/')[0] as string;
  for (const language of rule.languages) {
    const path = join(FIXTURES_DIR, dir, `${rule.id}.${EXTENSIONS[language]}`);
    if (existsSync(path)) return { path, language, ...annotations(readFileSync(path, 'utf8'), rule.id) };
  }
  return undefined;
}

const ANNOTATION = /^\s*(?:\/\/|#|\/\*)\s*(ruleid|ok)\s*:\s*([\w.-]+)/;

export function annotations(source: string, ruleId: string): { source: string; expected: number[]; ok: number[] } {
  const lines = source.split('\n');
  const expected: number[] = [];
  const ok: number[] = [];
  lines.forEach((line, i) => {
    const m = ANNOTATION.exec(line);
    if (!m || m[2] !== ruleId) return;
    let target = i + 1;
    while (target < lines.length && ANNOTATION.test(lines[target] as string)) target++;
    (m[1] === 'ruleid' ? expected : ok).push(target + 1);
  });
  return { source, expected, ok };
}
