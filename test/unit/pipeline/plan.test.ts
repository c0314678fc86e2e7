import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CONFIG } from '../../../shared/analysis/config.ts';
import { ScanRefusedError } from '../../../shared/pipeline/errors.ts';
import { candidateFiles, effectiveConfig, shardFiles } from '../../../shared/pipeline/plan.ts';
import { isDefaultBranchScan, reportable } from '../../../shared/pipeline/persist.ts';
import type { ScanFinding } from '../../../shared/pipeline/findings-store.ts';

const file = (path: string, size = 10) => ({ path, size, sha256: 'a'.repeat(64) });

describe('shardFiles', () => {
  it('cuts by file count and by bytes, keeping archive order, and never leaves an empty shard', () => {
    const files = Array.from({ length: 7 }, (_, i) => file(`f${i}`, 10));
    expect(shardFiles(files, { maxFilesPerShard: 3, maxBytesPerShard: 1000 }).map((s) => s.map((f) => f.path))).toEqual([
      ['f0', 'f1', 'f2'],
      ['f3', 'f4', 'f5'],
      ['f6'],
    ]);
    expect(shardFiles(files, { maxFilesPerShard: 100, maxBytesPerShard: 25 }).map((s) => s.length)).toEqual([2, 2, 2, 1]);
    expect(shardFiles([], { maxFilesPerShard: 3, maxBytesPerShard: 25 })).toEqual([]);
  });

  it('gives a file larger than the byte budget a shard of its own', () => {
    const shards = shardFiles([file('small', 5), file('huge', 500), file('tail', 5)], { maxFilesPerShard: 10, maxBytesPerShard: 100 });
    expect(shards.map((s) => s.map((f) => f.path))).toEqual([['small'], ['huge'], ['tail']]);
  });
});

describe('candidateFiles', () => {
  it('leaves out vendored, ignored, oversized and binary files, saying why', () => {
    const config = { ...DEFAULT_CONFIG, ignore: ['docs/**'], maxFileSize: 100 };
    const { candidates, skipped } = candidateFiles(
      [file('src/a.js'), file('node_modules/x/index.js'), file('docs/guide.py'), file('src/big.js', 101), file('img/logo.PNG'), file('Dockerfile')],
      config,
    );
    expect(candidates.map((f) => f.path)).toEqual(['src/a.js', 'Dockerfile']);
    expect(skipped).toEqual([
      { path: 'node_modules/x/index.js', reason: 'vendored' },
      { path: 'docs/guide.py', reason: 'ignored' },
      { path: 'src/big.js', reason: 'too-large' },
      { path: 'img/logo.PNG', reason: 'binary' },
    ]);
  });
});

describe('effectiveConfig', () => {
  it('applies the repository file and the stricter threshold', () => {
    expect(effectiveConfig({ configText: 'severityThreshold: medium\nignore: ["test/**"]\n' }, 'high')).toMatchObject({ severityThreshold: 'high', ignore: ['test/**'] });
    expect(effectiveConfig({ configText: 'severityThreshold: critical\n' }, 'low').severityThreshold).toBe('critical');
    expect(effectiveConfig({}, 'medium')).toMatchObject({ ...DEFAULT_CONFIG, severityThreshold: 'medium' });
  });

  it('refuses the scan with the configuration error for an invalid file', () => {
    expect(() => effectiveConfig({ configText: 'severityThreshold: extreme\n' }, 'low')).toThrow(ScanRefusedError);
    expect(() => effectiveConfig({ configText: 'unknownKey: 1\n' }, 'low')).toThrow(/Invalid repository configuration: .*unknownKey/);
    expect(() => effectiveConfig({ configText: 'ignore: [unclosed\n' }, 'low')).toThrow(/invalid YAML/);
  });
});

describe('persist helpers', () => {
  const finding = (fingerprint: string, suppressed = false) =>
    ({ fingerprint, severity: 'high', ...(suppressed ? { suppression: { kind: 'inline', reason: 'ok' } } : {}) }) as unknown as ScanFinding;

  it('reports each fingerprint once and never a suppressed finding', () => {
    expect(reportable([finding('a'), finding('a'), finding('b', true), finding('c')]).map((f) => f.fingerprint)).toEqual(['a', 'c']);
  });

  it('lets only default-branch scans decide the stored findings', () => {
    const repo = { defaultBranch: 'main' };
    expect(isDefaultBranchScan({}, repo)).toBe(true);
    expect(isDefaultBranchScan({ branch: 'main' }, repo)).toBe(true);
    expect(isDefaultBranchScan({ branch: 'feature' }, repo)).toBe(false);
    expect(isDefaultBranchScan({ branch: 'main', pullRequestNumber: 3 }, repo)).toBe(false);
  });
});
