import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
const { logger, redactText, redactingReplacer, REDACTED, tracer, tracingActive, traceHandler } = await import('../../../shared/runtime/powertools.ts');

const JWT = ['eyJhbGciOiJIUzI1NiJ9', 'eyJ1c2VySWQiOiJ1LTEiLCJleHAiOjE3OTU0NDYwMDB9', 'c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu'].join('.');
const GITHUB_TOKEN = `ghp_${'A1b2C3d4E5f6'.repeat(3)}`;

let lines: string[];
let spies: ReturnType<typeof jest.spyOn>[];
beforeEach(() => {
  lines = [];
  spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }),
  );
});
afterEach(() => spies.forEach((spy) => spy.mockRestore()));

const logged = () => lines.join('');

describe('logger redaction', () => {
  it('masks secrets passed as attributes, in nested objects and in the message', () => {
    logger.info(`login with Bearer ${JWT}`, {
      user: { email: 'ann@example.com', password: 'correct horse battery staple' },
      headers: { authorization: `Bearer ${JWT}`, 'x-hub-signature-256': 'sha256=abcdef0123456789' },
      githubToken: GITHUB_TOKEN,
      note: `token=${GITHUB_TOKEN}`,
      clientSecret: 'shh-very-secret',
      count: 3,
    });
    const out = logged();
    expect(out).not.toContain(JWT);
    expect(out).not.toContain(GITHUB_TOKEN);
    expect(out).not.toContain('correct horse battery staple');
    expect(out).not.toContain('shh-very-secret');
    expect(out).not.toContain('abcdef0123456789');
    expect(out).toContain(REDACTED);
    const item = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(item).toMatchObject({ level: 'INFO', service: 'codeguardian', count: 3, user: { email: 'ann@example.com', password: REDACTED } });
  });

  it('masks secrets inside logged errors', () => {
    logger.error('GitHub call failed', { error: new Error(`401 for token ${GITHUB_TOKEN}`) });
    expect(logged()).not.toContain(GITHUB_TOKEN);
    expect(logged()).toContain('GitHub call failed');
  });

  it('masks provider credentials the secret scanner knows, such as AWS access keys', () => {
    const accessKey = ['AKIA', 'Q3EGT5ZXB7WJ2K4L'].join('');
    logger.warn(`upload failed with key ${accessKey}`);
    expect(logged()).not.toContain(accessKey);
    expect(logged()).toContain('upload failed with key AKIA');
  });

  it('masks PEM private keys in free text', () => {
    const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEpAIBAAKCAQEA1c2Vy', '-----END RSA PRIVATE KEY-----'].join('\n');
    expect(redactText(`key: ${pem} end`)).toBe(`key: ${REDACTED} end`);
  });

  it('leaves ordinary values alone', () => {
    expect(redactingReplacer('repository', 'octo/hello-world')).toBe('octo/hello-world');
    expect(redactingReplacer('maxTokens', 4096)).toBe(4096);
    expect(redactText('scan 42 finished in 3 s')).toBe('scan 42 finished in 3 s');
    expect(redactText('token validation failed for repository octo/hello')).toBe('token validation failed for repository octo/hello');
  });
});

describe('tracing', () => {
  it('is active only inside Lambda, not under SAM local or with POWERTOOLS_TRACE_ENABLED=false', () => {
    expect(tracingActive({})).toBe(false);
    expect(tracingActive({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(tracingActive({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingActive({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingActive({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  it('does not load the X-Ray SDK outside Lambda, and its middleware then does nothing', () => {
    expect(tracer).toBeUndefined();
    expect(traceHandler()).toEqual([]);
  });

  it('loads the Tracer and its middleware inside Lambda', () => {
    const script = "const m = await import('./shared/runtime/powertools.ts'); console.log(JSON.stringify([m.tracer?.constructor.name, m.tracer?.isTracingEnabled(), m.traceHandler().length]));";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../../..'),
      env: { ...process.env, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'true', NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop() ?? '')).toEqual(['Tracer', true, 1]);
  });
});
