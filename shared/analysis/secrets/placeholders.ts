/**
 * Values that look like credentials but are not: template references, documentation examples and the
 * published sample credentials of providers. Reporting them would teach users to ignore the scanner.
 */

/** Sample credentials published by providers in their documentation. */
const DOCUMENTED_EXAMPLES: ReadonlySet<string> = new Set([
  // AWS IAM user guide.
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AKIAI44QH8DHBEXAMPLE',
  'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  // The token shown on jwt.io.
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
]);

/** A value referring to a secret stored elsewhere rather than containing it. */
const REFERENCE = [
  /\$\{[^}]*\}/, // ${VAR}, ${{ secrets.X }}
  /\{\{[^}]*\}\}/, // {{ var }}
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $VAR
  /^%[A-Za-z_][A-Za-z0-9_]*%$/, // %VAR%
  /%\([A-Za-z_]+\)s/, // %(name)s
  /^<[^>]*>$/, // <your-key>
  /\b(?:process\.env|os\.environ|os\.getenv|System\.getenv|getenv|env)\b/,
  /^(?:env|secret|vault|ssm|arn):/i,
];

/** Words that mark a value as illustrative wherever they appear in it. */
const MARKERS =
  /changeme|change[_-]me|example|dummy|placeholder|sample|fake|redacted|replace[_-]?me|insert[_-]|your[_-]?(?:own|api|secret|token|key|password|pass)|xxxx|\*\*\*|\.\.\.|…|lorem|notreal|not[_-]a[_-]real|test/i;

/** Whole values too plain to be a secret. */
const PLAIN = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'key', 'none', 'null', 'nil',
  'undefined', 'true', 'false', 'string', 'value', 'admin', 'root', 'default', 'empty', 'required', 'optional',
]);

export function isDocumentedExample(value: string): boolean {
  return DOCUMENTED_EXAMPLES.has(value);
}

/** Every character equal, e.g. `xxxxxxxx` or `00000000`. */
function isRepeated(value: string): boolean {
  return value.length > 0 && value.split('').every((ch) => ch === value[0]);
}

/** Runs such as `123456789`, `abcdefgh` or `0123456789abcdef`, forwards or backwards. */
function isSequential(value: string): boolean {
  if (value.length < 6) return false;
  let steps = 0;
  for (let i = 1; i < value.length; i++) {
    const delta = value.charCodeAt(i) - value.charCodeAt(i - 1);
    if (delta === 1 || delta === -1 || (value[i - 1] === '9' && value[i] === 'a')) steps++;
  }
  return steps / (value.length - 1) >= 0.8;
}

/** True when `value` is a reference, a documentation example or an obvious stand-in. */
export function isPlaceholder(value: string): boolean {
  const trimmed = value.trim();
  if (trimmed.length < 4) return true;
  if (isDocumentedExample(trimmed)) return true;
  if (PLAIN.has(trimmed.toLowerCase())) return true;
  if (isRepeated(trimmed) || isSequential(trimmed)) return true;
  if (REFERENCE.some((re) => re.test(trimmed))) return true;
  return MARKERS.test(trimmed);
}
