/**
 * Every rule with a rewrite (a rule `fix` template or a registered fixer), generated from the rule list: each
 * positive example of its fixture gets a fix that parses and re-scans clean, the negative examples are left
 * untouched, and the whole fixture after every fix matches its expected file under test/fixtures/rules-fixed/.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyFixes } from '../../../shared/analysis/apply-fixes.ts';
import { detectLanguage } from '../../../shared/analysis/languages.ts';
import { getRuleSet } from '../../../shared/analysis/rule-pack.ts';
import { scanFiles } from '../../../shared/analysis/scanner.ts';
import type { Finding, LanguageId } from '../../../shared/analysis/types.ts';
import { fixerRuleIds, rewriteFor } from '../../../shared/fix/rewrites/index.ts';
import { buildRuleFix, syntaxProblems, validateFix } from '../../../shared/fix/validate.ts';
import { annotations, FIXTURES_DIR } from '../analysis/rule-fixtures.ts';

const FIXED_DIR = fileURLToPath(new URL('../../fixtures/rules-fixed/', import.meta.url));

/**
 * Positive examples a rewrite declines on purpose, per rule, with why. The counts are exact, so a rewrite that
 * starts declining more (or handles a shape it used to decline) fails here.
 */
const DECLINED: Record<string, { count: number; why: string }> = {
  'javascript.command-injection': { count: 1, why: 'the whole command comes from the request: there is no fixed program to run' },
  'javascript.taint.command-injection': { count: 1, why: 'sh -c with a built script: the script itself is the command' },
  'python.command-injection': { count: 1, why: 'the whole command comes from the request: there is no fixed program to run' },
  'python.taint.sql-injection': { count: 1, why: 'executemany with a built statement and a separate parameter list' },
  'javascript.path-traversal': { count: 1, why: 'the whole path comes from the request: the code names no base directory to keep it under' },
  'javascript.reflected-xss': { count: 1, why: 'a bare request value as the whole body may be an object Express sends as JSON: escaping would change it' },
  'javascript.taint.xss': { count: 1, why: 'document.write of built markup: whether it should be text or sanitized markup depends on the page' },
  'python.path-traversal': { count: 1, why: 'the whole path comes from the request: the code names no base directory to keep it under' },
  'go.xss': { count: 1, why: 'template.HTML of a variable declares it trusted markup: escaping it would change what the page shows' },
};

const ruleSet = getRuleSet();
const ruleIds = [...new Set([...ruleSet.rules.filter((r) => r.fix !== undefined).map((r) => r.id), ...fixerRuleIds()])].sort();

function fixtureFile(ruleId: string): string | undefined {
  const dir = join(FIXTURES_DIR, ruleId.split('.')[0] as string);
  const name = readdirSync(dir).find((f) => f.startsWith(`${ruleId}.`) && /^[a-z]+$/.test(f.slice(ruleId.length + 1)));
  return name ? join(dir, name) : undefined;
}

/** Byte ranges of the lines (1-based) in the source. */
function lineRanges(source: string, lines: readonly number[]): [number, number][] {
  const starts = [0];
  const buf = Buffer.from(source, 'utf8');
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) starts.push(i + 1);
  return lines.map((l) => [starts[l - 1] as number, (starts[l] ?? buf.length + 1) - 1]);
}

describe('rule rewrites', () => {
  it('cover the rules of every language', () => {
    for (const language of ['javascript', 'python', 'java', 'go']) expect(ruleIds.filter((id) => id.startsWith(`${language}.`)).length).toBeGreaterThanOrEqual(3);
  });

  describe.each(ruleIds.map((id) => [id] as const))('%s', (ruleId) => {
    const file = fixtureFile(ruleId);
    const name = file ? (file.split('/').pop() as string) : '';
    const source = file ? readFileSync(file, 'utf8') : '';
    const language = detectLanguage(name, source);
    const lang = (language ?? 'javascript') as LanguageId;
    const { expected, ok } = annotations(source, ruleId);
    const cwe = ruleSet.rules.find((r) => r.id === ruleId)?.cwe ?? [];
    const all = file ? scanFiles([{ path: name, source }]).findings : [];
    // Where a taint flow reaches the line a structural rule flags, the scan keeps one finding: the taint one.
    const findings: Finding[] = all.filter((f) => f.ruleId === ruleId || (f.kind === 'taint' && f.cwe.some((c) => cwe.includes(c)) && expected.includes(f.location.startLine) && !all.some((g) => g.ruleId === ruleId && g.location.startLine === f.location.startLine)));

    it('has an annotated fixture whose positive lines are reported', () => {
      expect(file).toBeDefined();
      expect(language).toBeDefined();
      expect(expected.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThan(0);
      for (const line of expected) expect(findings.some((f) => f.location.startLine === line)).toBe(true);
    });

    it('fixes each positive example with a change that parses and re-scans clean', () => {
      let declined = 0;
      for (const line of expected) {
        const finding = findings.find((f) => f.location.startLine === line) as Finding;
        const fix = buildRuleFix(finding, source);
        if (!fix) {
          declined++;
          continue;
        }
        expect(fix.description.length).toBeGreaterThan(0);
        expect(syntaxProblems(lang, fix.after)).toBeLessThanOrEqual(syntaxProblems(lang, source));
        const result = validateFix({ path: name, language: lang, before: source, after: fix.after, finding });
        expect({ line, result }).toEqual({ line, result: expect.objectContaining({ ok: true }) });
      }
      expect(declined).toBe(DECLINED[ruleId]?.count ?? 0);
    });

    it('leaves the negative examples untouched', () => {
      const okRanges = lineRanges(source, ok);
      for (const finding of findings) {
        for (const edit of rewriteFor(finding, source)?.edits ?? []) {
          for (const [start, end] of okRanges) {
            const overlaps = edit.startByte < end && edit.endByte > start && !(edit.startByte === edit.endByte && edit.startByte === start);
            expect({ line: finding.location.startLine, overlaps }).toEqual({ line: finding.location.startLine, overlaps: false });
          }
        }
      }
    });

    it('gives the expected file when every fix is applied together', () => {
      const outcome = applyFixes(source, findings);
      const expectedPath = join(FIXED_DIR, ruleId.split('.')[0] as string, name);
      if (process.env.UPDATE_FIXED === '1') {
        mkdirSync(dirname(expectedPath), { recursive: true });
        writeFileSync(expectedPath, outcome.source);
      }
      expect(existsSync(expectedPath)).toBe(true);
      expect(outcome.source).toBe(readFileSync(expectedPath, 'utf8'));
      expect(syntaxProblems(lang, outcome.source)).toBeLessThanOrEqual(syntaxProblems(lang, source));
      const after = scanFiles([{ path: name, source: outcome.source }]).findings.filter((f) => f.ruleId === ruleId);
      expect(after.length).toBeLessThanOrEqual(DECLINED[ruleId]?.count ?? 0);
    });
  });
});

/** The first finding of the rule in the source, rewritten and validated; undefined when the rewrite declines. */
function rewriteOf(path: string, source: string, ruleId: RegExp): string | undefined {
  const finding = scanFiles([{ path, source }]).findings.find((f) => ruleId.test(f.ruleId));
  expect(finding).toBeDefined();
  const fix = buildRuleFix(finding as Finding, source);
  if (!fix) return undefined;
  const language = detectLanguage(path, source) as LanguageId;
  expect(validateFix({ path, language, before: source, after: fix.after, finding: finding as Finding })).toEqual(expect.objectContaining({ ok: true }));
  return fix.after;
}

describe('path traversal rewrites', () => {
  it('decline a Go function that cannot answer 400 by returning', () => {
    const source = 'package files\n\nimport (\n\t"net/http"\n\t"os"\n)\n\nfunc load(r *http.Request) ([]byte, error) {\n\treturn os.ReadFile("/srv/files/" + r.FormValue("name"))\n}\n';
    expect(rewriteOf('load.go', source, /path-traversal/)).toBeUndefined();
  });

  it('decline a literal prefix that names a file, not a directory', () => {
    const source = "const fs = require('fs');\napp.get('/r', (req, res) => {\n  res.end(fs.readFileSync('/srv/report-' + req.query.id));\n});\n";
    expect(rewriteOf('r.js', source, /path-traversal/)).toBeUndefined();
  });

  it('decline a check hoisted out of the callback the path is used in', () => {
    const source = "const fs = require('fs');\napp.get('/r', (req, res) => {\n  setTimeout(() => fs.readFileSync('/srv/files/' + req.query.id), 10);\n});\n";
    expect(rewriteOf('r.js', source, /path-traversal/)).toBeUndefined();
  });

  it('bind path when the file has not imported it', () => {
    const source = "import fs from 'node:fs';\n\napp.get('/r', (req, res) => {\n  res.end(fs.readFileSync('/srv/files/' + req.query.id));\n});\n";
    const after = rewriteOf('r.mjs', source, /path-traversal/);
    expect(after).toContain("import path from 'node:path';");
    expect(after).toContain("const idPath = path.resolve('/srv/files/', req.query.id);");
  });
});

describe('XSS rewrites', () => {
  const servlet = (imports: string) =>
    `import javax.servlet.http.*;\n${imports}\nclass Hello {\n    void hello(HttpServletRequest request, HttpServletResponse response) throws Exception {\n        response.getWriter().println("<p>" + request.getParameter("name") + "</p>");\n    }\n}\n`;

  it.each([
    ['import org.owasp.encoder.Encode;', 'Encode.forHtml(request.getParameter("name"))', undefined],
    ['import org.apache.commons.text.WordUtils;', 'StringEscapeUtils.escapeHtml4(request.getParameter("name"))', 'import org.apache.commons.text.StringEscapeUtils;'],
    ['import org.springframework.web.bind.annotation.GetMapping;', 'HtmlUtils.htmlEscape(request.getParameter("name"))', 'import org.springframework.web.util.HtmlUtils;'],
  ])('use the Java encoder the file already has (%s)', (imports, call, added) => {
    const after = rewriteOf('Hello.java', servlet(imports), /xss/);
    expect(after).toContain(call);
    if (added) expect(after).toContain(added);
  });

  it('name the encoder by its full package where the file uses the library that way', () => {
    const source = servlet('').replace('    }\n}', '        String safe = org.owasp.esapi.ESAPI.encoder().encodeForHTML("x");\n    }\n}');
    const after = rewriteOf('Hello.java', source, /xss/);
    expect(after).toContain('println("<p>" + org.owasp.esapi.ESAPI.encoder().encodeForHTML(request.getParameter("name")) + "</p>");');
    expect(after).not.toContain('import org.owasp');
  });

  it('escape a request value used as the format of printf, after the locale', () => {
    const source = servlet('import org.owasp.encoder.Encode;').replace(
      'response.getWriter().println("<p>" + request.getParameter("name") + "</p>");',
      'String fmt = request.getParameter("fmt");\n        response.getWriter().printf(java.util.Locale.US, fmt, "a");',
    );
    expect(rewriteOf('Hello.java', source, /xss/)).toContain('response.getWriter().printf(java.util.Locale.US, Encode.forHtml(fmt), "a");');
  });

  it('decline Java without an HTML encoder library among its imports', () => {
    expect(rewriteOf('Hello.java', servlet('import java.util.List;'), /xss/)).toBeUndefined();
  });

  it('decline JavaScript without an escaper, and use lodash when it is imported', () => {
    const handler = "app.get('/h', (req, res) => {\n  res.send('<p>' + req.query.name + '</p>');\n});\n";
    expect(rewriteOf('h.js', handler, /xss/)).toBeUndefined();
    expect(rewriteOf('h.js', `const _ = require('lodash');\n${handler}`, /xss/)).toContain("res.send('<p>' + _.escape(req.query.name) + '</p>');");
  });
});

describe('Go crypto/rand rewrite', () => {
  it('replaces the math/rand import when every use was security-sensitive', () => {
    const source = 'package tokens\n\nimport "math/rand"\n\nfunc NewToken(b []byte) int64 {\n\trand.Read(b)\n\treturn rand.Int63n(1000)\n}\n';
    const after = rewriteOf('tokens.go', source, /weak-random/);
    expect(after).toContain('import crand "crypto/rand"');
    expect(after).not.toContain('"math/rand"');
    expect(after).toContain('crand.Read(b)');
    expect(after).toContain('return cryptoRandInt63n(1000)');
    expect(after).toContain('func cryptoRandInt63n(n int64) int64 {');
  });

  it('declines when one of the calls has no exact crypto/rand counterpart', () => {
    const source = 'package tokens\n\nimport "math/rand"\n\nfunc NewToken() float64 {\n\treturn rand.Float64()\n}\n';
    expect(rewriteOf('tokens.go', source, /weak-random/)).toBeUndefined();
  });
});
