import { describe, expect, it } from '@jest/globals';
import { changedLines } from '../../../shared/llm/scan-sources.ts';
import { suggestPrompt, type SuggestionCandidate } from '../../../shared/llm/prompts/suggest.ts';
import { newBoundary } from '../../../shared/llm/untrusted.ts';

describe('changedLines', () => {
  it('reads the added and changed lines of every file of a git diff, in new-file numbering', () => {
    const diff = [
      'diff --git a/src/a.js b/src/a.js',
      'index 1111111..2222222 100644',
      '--- a/src/a.js',
      '+++ b/src/a.js',
      '@@ -3,0 +4,2 @@ function a() {',
      '+  const x = req.query.x;',
      '+  run(x);',
      '@@ -10 +12 @@',
      '-  old();',
      '+  fresh();',
      'diff --git a/src/gone.js b/src/gone.js',
      'deleted file mode 100644',
      '--- a/src/gone.js',
      '+++ /dev/null',
      '@@ -1,2 +0,0 @@',
      '-a',
      '-b',
      'diff --git a/src/new.py b/src/new.py',
      'new file mode 100644',
      '--- /dev/null',
      '+++ b/src/new.py',
      '@@ -0,0 +1,3 @@',
      '+import os',
      '+',
      '+os.system(input())',
      '',
    ].join('\n');
    const changes = changedLines(diff);
    expect(Object.fromEntries(changes)).toEqual({
      'src/a.js': [
        { start: 4, end: 5 },
        { start: 12, end: 12 },
      ],
      'src/new.py': [{ start: 1, end: 3 }],
    });
  });

  it("reads a GitHub compare file's patch (hunks only) under the given name, context lines counted", () => {
    const patch = '@@ -1,4 +1,5 @@\n const a = 1;\n-const b = 2;\n+const b = req.body.b;\n+eval(b);\n const c = 3;\n const d = 4;';
    expect(changedLines(patch, 'lib/x.js').get('lib/x.js')).toEqual([{ start: 2, end: 3 }]);
  });

  it('has nothing for a diff that only deletes lines', () => {
    expect(changedLines('@@ -1,2 +1 @@\n-gone\n kept', 'a.js').size).toBe(0);
  });
});

describe('the suggestions prompt', () => {
  const candidate = (ref: string): SuggestionCandidate => ({
    ref,
    type: 'SQL Injection',
    severity: 'critical',
    cwe: 'CWE-89',
    cvss: 9.1,
    repository: 'acme/api',
    filePath: 'src/db.js',
    lineNumber: 12,
    description: 'User input concatenated into SQL',
    snippet: 'db.query("SELECT * FROM t WHERE id=" + id)',
    age: '2 weeks',
    triage: null,
  });
  const input = { candidates: [candidate('F1'), candidate('F2')] };

  it('rejects refs it was not given and refs named twice', () => {
    const answer = (refs: string[]) => ({ summary: 's', suggestions: refs.map((ref) => ({ ref, title: 't', reason: 'r' })) });
    expect(suggestPrompt.check?.(answer(['F2', 'F1']), input)).toEqual([]);
    expect(suggestPrompt.check?.(answer(['F3']), input)).toEqual(['suggestion names F3, which is not one of the findings given']);
    expect(suggestPrompt.check?.(answer(['F1', 'F1']), input)).toEqual(['suggestion names F1 twice']);
  });

  it('sends each finding in its own untrusted block and keys the cache on the findings, not the boundary', () => {
    const boundary = newBoundary();
    const text = suggestPrompt.render(input, boundary);
    expect(text.match(new RegExp(`<<<BEGIN ${boundary} finding F\\d>>>`, 'g'))).toHaveLength(2);
    expect(suggestPrompt.system(boundary)).toContain(boundary);
    expect(suggestPrompt.cacheContent(input)).toBe(suggestPrompt.cacheContent({ candidates: [...input.candidates] }));
    expect(suggestPrompt.cacheContent(input)).not.toBe(suggestPrompt.cacheContent({ candidates: [candidate('F1')] }));
  });
});
