/** The generic rule-test suite: every rule in every pack is checked exactly against its annotated fixture. */
import { describe, expect, it } from '@jest/globals';
import { parseSource } from '../../../shared/analysis/languages.ts';
import { getRuleSet } from '../../../shared/analysis/rule-pack.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';
import type { LanguageId } from '../../../shared/analysis/types.ts';
import { fixtureFor } from './rule-fixtures.ts';

const ruleSet = getRuleSet();

function reportedLines(ruleId: string, language: LanguageId, source: string): number[] {
  const analyzer = createStructuralAnalyzer({ ruleSet, ruleFilter: (r) => r.id === ruleId });
  const findings = analyzer.analyze({ path: `fixture`, language, source, root: parseSource(language, source) });
  return [...new Set(findings.map((f) => f.location.startLine))].sort((a, b) => a - b);
}

describe('rule packs', () => {
  it('load with packs for JavaScript, Python and Go', () => {
    for (const language of ['javascript', 'typescript', 'python', 'go'] as const) {
      expect(ruleSet.byLanguage.get(language)?.length ?? 0).toBeGreaterThan(10);
    }
  });

  describe.each(ruleSet.rules.map((rule) => [rule.id, rule] as const))('%s', (_id, rule) => {
    const fixture = fixtureFor(rule);

    it('has a fixture with ruleid and ok cases', () => {
      expect(fixture).toBeDefined();
      expect(fixture?.expected.length).toBeGreaterThan(0);
      expect(fixture?.ok.length).toBeGreaterThan(0);
    });

    it('reports exactly the ruleid lines', () => {
      if (!fixture) throw new Error(`no fixture for ${rule.id}`);
      expect(reportedLines(rule.id, fixture.language, fixture.source)).toEqual(fixture.expected);
    });

    // JavaScript rules also run on TypeScript: the same fixture must give the same lines under that grammar.
    if (fixture?.language === 'javascript' && rule.languages.includes('typescript')) {
      it('reports the same lines when parsed as TypeScript', () => {
        expect(reportedLines(rule.id, 'typescript', fixture.source)).toEqual(fixture.expected);
      });
    }

    if (rule.fix !== undefined) {
      it('has fixes that remove the finding', () => {
        if (!fixture) throw new Error(`no fixture for ${rule.id}`);
        const analyzer = createStructuralAnalyzer({ ruleSet, ruleFilter: (r) => r.id === rule.id });
        const findings = analyzer.analyze({ path: 'fixture', language: fixture.language, source: fixture.source, root: parseSource(fixture.language, fixture.source) });
        const buf = Buffer.from(fixture.source, 'utf8');
        const edits = findings.flatMap((f) => f.fix?.edits ?? []).sort((a, b) => b.startByte - a.startByte);
        let out = buf;
        for (const e of edits) out = Buffer.concat([out.subarray(0, e.startByte), Buffer.from(e.replacement), out.subarray(e.endByte)]);
        const fixed = out.toString('utf8');
        expect(fixed).not.toEqual(fixture.source);
        expect(reportedLines(rule.id, fixture.language, fixed)).toEqual([]);
      });
    }
  });
});
