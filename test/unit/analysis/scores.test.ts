import { describe, expect, it } from '@jest/globals';
import { penalty, riskScore, securityScore, type ScoredSeverity } from '../../../shared/domain/scores.ts';

const LEVELS: ScoredSeverity[] = ['critical', 'high', 'medium', 'low'];

describe('security score', () => {
  it('is 100 with no findings and matches the documented examples', () => {
    expect(securityScore({})).toBe(100);
    expect(securityScore({ critical: 1 })).toBe(67);
    expect(securityScore({ high: 1 })).toBe(82);
    expect(securityScore({ medium: 1 })).toBe(92);
    expect(securityScore({ low: 1 })).toBe(98);
    expect(securityScore({ info: 50 })).toBe(100);
    expect(securityScore({ high: 10 })).toBe(50);
    expect(securityScore({ critical: 1, high: 3, medium: 10 })).toBe(34);
  });

  it('falls with every added finding and stays within 0–100', () => {
    for (const level of LEVELS) {
      let previous = 100;
      for (let n = 1; n <= 2000; n = Math.ceil(n * 1.7)) {
        const score = securityScore({ [level]: n });
        expect(score).toBeLessThanOrEqual(previous);
        expect(score).toBeGreaterThanOrEqual(0);
        previous = score;
      }
    }
    expect(securityScore({ critical: 1e9, high: 1e9, medium: 1e9, low: 1e9 })).toBe(0);
  });

  it('weighs severities in order and counts with diminishing returns', () => {
    expect(penalty({ critical: 1 })).toBeGreaterThan(penalty({ high: 1 }));
    expect(penalty({ high: 1 })).toBeGreaterThan(penalty({ medium: 1 }));
    expect(penalty({ medium: 1 })).toBeGreaterThan(penalty({ low: 1 }));
    expect(penalty({ high: 2 }) - penalty({ high: 1 })).toBeLessThan(penalty({ high: 1 }));
    expect(penalty({ high: 100 })).toBeLessThan(100 * penalty({ high: 1 }));
  });

  it('rejects negative or non-numeric counts', () => {
    expect(() => securityScore({ high: -1 })).toThrow(RangeError);
    expect(() => securityScore({ high: Number.NaN })).toThrow(RangeError);
  });
});

describe('risk score', () => {
  it('is 0 for no repositories or no findings', () => {
    expect(riskScore([]).score).toBe(0);
    expect(riskScore([{ counts: {} }, { counts: { info: 4 } }])).toMatchObject({ score: 0, level: 'low' });
  });

  it('rises with findings, breadth and staleness and stays within 0–1', () => {
    const one = riskScore([{ counts: { high: 1 } }, { counts: {} }]).score;
    const more = riskScore([{ counts: { high: 5 } }, { counts: {} }]).score;
    const wider = riskScore([{ counts: { high: 5 } }, { counts: { high: 1 } }]).score;
    const stale = riskScore([{ counts: { high: 5 }, staleHighOrCritical: 5 }, { counts: { high: 1 }, staleHighOrCritical: 1 }]).score;
    expect(one).toBeGreaterThan(0);
    expect(more).toBeGreaterThan(one);
    expect(wider).toBeGreaterThan(more);
    expect(stale).toBeGreaterThan(wider);
    const worst = riskScore([{ counts: { critical: 1e6 }, staleHighOrCritical: 1e6 }]);
    expect(worst.score).toBeLessThanOrEqual(1);
    expect(worst.score).toBeGreaterThan(0.98);
    expect(worst.level).toBe('critical');
  });

  it('explains itself with factors whose contributions add up to the score', () => {
    const result = riskScore([{ counts: { critical: 2, medium: 3 }, staleHighOrCritical: 1 }, { counts: { low: 2 } }]);
    expect(result.factors.map((f) => f.name)).toEqual(['exposure', 'breadth', 'staleness']);
    expect(result.factors.find((f) => f.name === 'breadth')?.value).toBe(0.5);
    expect(result.factors.find((f) => f.name === 'staleness')?.value).toBe(0.5);
    expect(result).toMatchObject({ score: 0.403, level: 'medium' });
    const sum = result.factors.reduce((s, f) => s + f.contribution, 0);
    expect(Math.abs(sum - result.score)).toBeLessThan(0.002);
  });

  it('rejects bad staleness counts', () => {
    expect(() => riskScore([{ counts: { high: 1 }, staleHighOrCritical: -2 }])).toThrow(RangeError);
  });
});
