import { describe, expect, it } from '@jest/globals';
import { fingerprint, fingerprintAll, normaliseCode } from '../../../shared/domain/fingerprint.ts';
import { parseSource } from '../../../shared/analysis/languages.ts';
import { createStructuralAnalyzer } from '../../../shared/analysis/structural.ts';

const analyzer = createStructuralAnalyzer({ ruleFilter: (r) => r.id === 'javascript.sql-injection' });

function fingerprints(source: string, path = 'src/db.js'): string[] {
  const raw = analyzer.analyze({ path, language: 'javascript', source, root: parseSource('javascript', source) });
  return fingerprintAll(raw).map((f) => f.fingerprint);
}

const query = "db.query('SELECT * FROM t WHERE id = ' + id);";

describe('fingerprints', () => {
  it('normalise whitespace and comments but keep string contents', () => {
    expect(normaliseCode("db.query( 'a  b' +\n   id /* note */ ) // tail")).toBe("db.query('a  b'+id)");
    expect(normaliseCode('return  new Foo( x )  # why\n', 'hash')).toBe('return new Foo(x)');
    expect(normaliseCode("s = '# not a comment'", 'hash')).toBe("s='# not a comment'");
  });

  it('stay the same when the line moves', () => {
    const before = fingerprints(`function f(id) {\n  ${query}\n}\n`);
    const after = fingerprints(`// header\n\nconst x = 1;\n\nfunction f(id) {\n  const y = 2;\n  ${query}\n}\n`);
    expect(before).toHaveLength(1);
    expect(after).toEqual(before);
  });

  it('stay the same when the matched code is reformatted', () => {
    const a = fingerprints(`${query}\n`);
    const b = fingerprints("db.query(\n  'SELECT * FROM t WHERE id = ' +\n    id // the id\n);\n");
    expect(b).toEqual(a);
  });

  it('differ by rule, file and code, and tell identical code apart by occurrence', () => {
    const twice = fingerprints(`${query}\n${query}\n`);
    expect(new Set(twice).size).toBe(2);
    expect(fingerprints(`${query}\n`, 'src/other.js')).not.toEqual(fingerprints(`${query}\n`));
    const base = { ruleId: 'r', path: 'p', code: 'x', occurrence: 0 };
    expect(fingerprint(base)).not.toBe(fingerprint({ ...base, ruleId: 'q' }));
    expect(fingerprint(base)).not.toBe(fingerprint({ ...base, code: 'y' }));
    expect(fingerprint(base)).toBe(fingerprint({ ...base }));
    expect(fingerprint(base)).toMatch(/^[0-9a-f]{32}$/);
  });
});
