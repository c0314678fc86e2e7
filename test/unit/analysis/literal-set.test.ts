import { describe, expect, it } from '@jest/globals';
import { LiteralSet } from '../../../shared/analysis/literal-set.ts';

const present = (set: LiteralSet, text: string) => set.literals.filter((_, i) => set.scan(text)[i] === 1);

describe('LiteralSet', () => {
  it('finds every literal that occurs, ignoring ASCII case, and no other', () => {
    const set = new LiteralSet(['req.body', 'request.body', 'eval', 'he', 'she', 'hers', 'absent']);
    expect(present(set, 'const x = REQUEST.Body; evAl(x); ushers')).toEqual(['req.body', 'request.body', 'eval', 'he', 'she', 'hers'].filter((w) => w !== 'req.body'));
    expect(present(set, 'req.body')).toEqual(['req.body']);
    expect(present(set, '')).toEqual([]);
  });

  it('finds literals that overlap or end inside longer ones', () => {
    const set = new LiteralSet(['abcd', 'bc', 'c', 'bcx']);
    expect(present(set, 'abcx')).toEqual(['bc', 'c', 'bcx']);
  });

  it('restarts after non-ASCII text and checks non-ASCII literals directly', () => {
    const set = new LiteralSet(['ab', 'straße']);
    expect(present(set, 'aéb STRASSE')).toEqual([]);
    expect(present(set, 'é ab Straße')).toEqual(['ab', 'straße']);
  });

  it('wants a literal with a capital letter as written, one without in any case', () => {
    const set = new LiteralSet(['Function', 'eval']);
    expect(present(set, 'new function(x); EVAL(y)')).toEqual(['eval']);
    expect(present(set, 'new Function(x)')).toEqual(['Function']);
  });

  it('finds a literal marked with word boundaries only where it stands as a whole word on those sides', () => {
    const set = new LiteralSet(['\\beval\\b', '\\bexec', 'sync\\b']);
    expect(present(set, 'evaluate(x); execute(y); asynchronous')).toEqual(['\\bexec']);
    expect(present(set, 'x.eval(y); reexec(); fsync')).toEqual(['\\beval\\b', 'sync\\b']);
    expect(present(set, 'retrieval; preexec_fn')).toEqual([]);
    expect(present(set, 'EVAL')).toEqual(['\\beval\\b']);
    // A later whole-word occurrence counts after an embedded one.
    expect(present(set, 'medieval; eval(x)')).toEqual(['\\beval\\b']);
  });

  it('counts escapes and digits before a word as boundaries, as string content and numbers end tokens there', () => {
    const set = new LiteralSet(['\\beval\\b']);
    expect(present(set, '"\\neval"')).toEqual(['\\beval\\b']);
    expect(present(set, '"\\x41eval"')).toEqual(['\\beval\\b']);
    expect(present(set, 'x = 1eval')).toEqual(['\\beval\\b']);
    expect(present(set, '`${a}eval${b}`')).toEqual(['\\beval\\b']);
    expect(present(set, 'x1eval')).toEqual([]);
  });

  it('agrees with includes for random inputs: as written for capitals, lower-cased otherwise', () => {
    const alphabet = 'abAB.(_';
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const word = (max: number) => Array.from({ length: 1 + random(max) }, () => alphabet[random(alphabet.length)]).join('');
    const literals = [...new Set(Array.from({ length: 40 }, () => word(4)))];
    const set = new LiteralSet(literals);
    for (let round = 0; round < 200; round++) {
      const text = word(60);
      const lower = text.toLowerCase();
      expect(present(set, text)).toEqual(literals.filter((l) => (/[A-Z]/.test(l) ? text.includes(l) : lower.includes(l))));
    }
  });
});
