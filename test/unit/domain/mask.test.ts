import { describe, expect, it } from '@jest/globals';
import { maskSecret, redactSecrets } from '../../../shared/domain/mask.ts';
import { pemBody, sampleSecrets } from '../analysis/secrets/tokens.ts';

const S = sampleSecrets();

describe('maskSecret', () => {
  it('keeps the first and last four characters of long secrets', () => {
    expect(maskSecret('AKIAIOSFODNN7EXAMPLE')).toBe('AKIA************MPLE');
  });

  it('keeps only the first four characters of secrets of 12 to 19 characters', () => {
    expect(maskSecret('Xk9#mQ2$vL7p')).toBe('Xk9#********');
    expect(maskSecret('abcdefghijklmnopqrs')).toBe(`abcd${'*'.repeat(15)}`);
  });

  it('shows nothing of short secrets', () => {
    expect(maskSecret('hunter2')).toBe('*******');
    expect(maskSecret('ab')).toBe('****');
    expect(maskSecret('')).toBe('****');
  });

  it('caps the mask so long keys stay readable and never shows the end of multi-line keys', () => {
    const body = pemBody(4);
    const masked = maskSecret(body);
    expect(masked).toBe(`${body.slice(0, 4)}${'*'.repeat(32)}`);
    expect(maskSecret('x'.repeat(500))).toHaveLength(40);
  });
});

describe('redactSecrets', () => {
  it('masks provider credentials anywhere in free text', () => {
    const text = `deploy failed for ${S.GITHUB_TOKEN} using key ${S.AWS_KEY_ID} and ${S.STRIPE_KEY}.`;
    const redacted = redactSecrets(text);
    for (const secret of [S.GITHUB_TOKEN, S.AWS_KEY_ID, S.STRIPE_KEY] as string[]) {
      expect(redacted).not.toContain(secret);
      expect(redacted).toContain(maskSecret(secret));
    }
    expect(redacted.startsWith('deploy failed for ghp_')).toBe(true);
  });

  it('masks any value given to a secret-like name, even weak ones, in logs and JSON', () => {
    expect(redactSecrets('login user=alice password=hunter2 ok')).toBe('login user=alice password=******* ok');
    expect(redactSecrets('{"username":"alice","password":"hunter2","apiKey":"k-1"}')).toBe(
      '{"username":"alice","password":"*******","apiKey":"****"}',
    );
    expect(redactSecrets(`Authorization: Bearer ${S.GENERIC_SECRET}`)).toBe(`Authorization: Bearer ${maskSecret(S.GENERIC_SECRET as string)}`);
  });

  it('masks private keys and database passwords inside prompts', () => {
    const prompt = `Review:\nconst key = \`-----BEGIN EC PRIVATE KEY-----\n${S.PEM_BODY}\n-----END EC PRIVATE KEY-----\`;\nconst db = "postgres://app:${S.DB_PASSWORD}@db:5432/x";`;
    const redacted = redactSecrets(prompt);
    expect(redacted).not.toContain((S.PEM_BODY as string).slice(0, 64));
    expect(redacted).not.toContain(S.DB_PASSWORD);
    expect(redacted).toContain('-----BEGIN EC PRIVATE KEY-----');
    expect(redacted).toContain('@db:5432/x');
  });

  it('leaves text without secrets, references and documented examples untouched', () => {
    const texts = [
      'Scan finished: 3 findings in 42 files.',
      'password=${DB_PASSWORD} token={{ token }}',
      'aws key AKIAIOSFODNN7EXAMPLE from the IAM guide',
      'max_tokens=4096 and commit 3f786850e387550fdab836ed7e6dc881de23001b',
    ];
    for (const text of texts) expect(redactSecrets(text)).toBe(text);
  });

  it('is idempotent', () => {
    const text = `token=${S.GITHUB_TOKEN} password="hunter2" ${S.SENDGRID_KEY}`;
    const once = redactSecrets(text);
    expect(once).not.toBe(text);
    expect(redactSecrets(once)).toBe(once);
  });
});
