import { describe, expect, it } from '@jest/globals';
import { ConfigError, DEFAULT_CONFIG, DEFAULT_MAX_FILE_SIZE, isRuleEnabled, parseConfigText } from '../../../shared/analysis/config.ts';

describe('.codeguardian.yml', () => {
  it('gives defaults for an empty file', () => {
    expect(parseConfigText('')).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ ignore: [], severityThreshold: 'low', maxFileSize: DEFAULT_MAX_FILE_SIZE, autoFix: { enabled: false, minConfidence: 'high' } });
  });

  it('reads every documented key', () => {
    const config = parseConfigText(`
ignore: ['test/**', 'docs/']
rules: { disable: [CWE-328, python.weak-random], enable: [javascript.weak-hash] }
severityThreshold: medium
autoFix: { enabled: true, maxOpenPullRequests: 2, maxPullRequestsPerDay: 4, minConfidence: medium }
maxFileSize: 512KiB
`);
    expect(config).toEqual({
      ignore: ['test/**', 'docs/'],
      rules: { disable: ['CWE-328', 'python.weak-random'], enable: ['javascript.weak-hash'] },
      severityThreshold: 'medium',
      autoFix: { enabled: true, maxOpenPullRequests: 2, maxPullRequestsPerDay: 4, minConfidence: 'medium' },
      maxFileSize: 512 * 1024,
    });
  });

  it.each([
    ['an unknown key', 'ignored: [a]', /ignored/],
    ['a wrong severity', 'severityThreshold: severe', /severityThreshold/],
    ['a negative pull request limit', 'autoFix: { maxOpenPullRequests: -1 }', /autoFix\.maxOpenPullRequests/],
    ['a size without unit', 'maxFileSize: "12 parsecs"', /maxFileSize/],
    ['a string where a list belongs', 'ignore: docs/**', /ignore/],
    ['broken YAML', 'rules: { disable: [', /invalid YAML/],
  ])('rejects %s with an error naming it', (_label, text, pattern) => {
    expect(() => parseConfigText(text, '.codeguardian.yml')).toThrow(ConfigError);
    expect(() => parseConfigText(text, '.codeguardian.yml')).toThrow(pattern);
    try {
      parseConfigText(text);
    } catch (err) {
      expect((err as ConfigError).code).toBe('INVALID_CONFIG');
    }
  });

  it('turns rules off by id or CWE, and enable names them back', () => {
    const config = parseConfigText('rules: { disable: [CWE-328, python.yaml-load], enable: [javascript.weak-hash] }');
    expect(isRuleEnabled(config, 'python.weak-hash', ['CWE-328'])).toBe(false);
    expect(isRuleEnabled(config, 'javascript.weak-hash', ['CWE-328'])).toBe(true);
    expect(isRuleEnabled(config, 'python.yaml-load', ['CWE-502'])).toBe(false);
    expect(isRuleEnabled(config, 'python.sql-injection', ['CWE-89'])).toBe(true);
    expect(isRuleEnabled(parseConfigText('rules: { disable: [cwe-89] }'), 'go.sql-injection', ['CWE-89'])).toBe(false);
  });
});
