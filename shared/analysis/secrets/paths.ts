/** What a file's path and shape say about how its secrets should be treated. */

const LOCK_FILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'cargo.lock',
  'poetry.lock', 'pipfile.lock', 'gemfile.lock', 'composer.lock', 'go.sum', 'gradle.lockfile',
  'packages.lock.json', 'flake.lock', 'uv.lock', 'pdm.lock',
]);

/** Directories holding tests, fixtures, mocks, documentation and examples. */
const NON_PRODUCTION_DIRS = new Set([
  'test', 'tests', '__tests__', 'spec', 'specs', 'fixture', 'fixtures', '__fixtures__', 'testdata', 'test-data',
  'test_data', 'mocks', '__mocks__', 'docs', 'doc', 'documentation', 'example', 'examples', 'sample', 'samples',
  'demo', 'demos',
]);

const NON_PRODUCTION_FILES = [
  /\.(?:test|spec)\.[cm]?[jt]sx?$/i, // foo.test.ts
  /_test\.(?:go|py)$/i, // foo_test.go
  /(?:^|\/)test_[^/]*\.py$/i, // test_foo.py
  /(?:^|\/)(?:conftest\.py|[^/]*Tests?\.java)$/,
  /\.(?:md|mdx|markdown|rst|adoc)$/i, // documentation pages
];

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function isLockFile(path: string): boolean {
  const name = baseName(path).toLowerCase();
  return LOCK_FILES.has(name) || name.endsWith('.lock');
}

/** Bundled output: `.min.` names, source maps, or text whose average line is far longer than code's. */
export function isMinified(path: string, source: string): boolean {
  if (/\.min\.[cm]?(?:js|css)$|\.map$/i.test(path)) return true;
  if (source.length < 4096) return false;
  let lines = 1;
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lines++;
  return source.length / lines > 500;
}

/** Tests, fixtures and documentation, where credentials are usually made up. */
export function isNonProductionPath(path: string): boolean {
  const segments = path.toLowerCase().split('/');
  segments.pop();
  return segments.some((s) => NON_PRODUCTION_DIRS.has(s)) || NON_PRODUCTION_FILES.some((re) => re.test(path));
}
