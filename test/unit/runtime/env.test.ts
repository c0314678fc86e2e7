import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsJson, startStubServer, type StubServer } from './support/aws-local.ts';

const env = await import('../../../shared/runtime/env.ts');

const saved = { ...process.env };
const SECRET_VARS = ['JWT_SECRET', 'GITHUB_WEBHOOK_SECRET', 'TOKEN_ENCRYPTION_KEY', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_CLIENT_SECRET'];

beforeEach(() => {
  for (const name of [...SECRET_VARS, 'STAGE', 'APP_SECRETS_ARN', 'AWS_LAMBDA_FUNCTION_NAME', 'RATE_LIMIT_FREE_TIER', 'RATE_LIMIT_PRO_TIER', 'API_PORT']) {
    delete process.env[name];
  }
  process.env.CODEGUARDIAN_DATA_DIR = mkdtempSync(join(tmpdir(), 'cg-env-'));
  env.clearSecretsCache();
});
afterAll(() => {
  process.env = saved;
});

describe('requireEnv and config', () => {
  it('throws a ConfigError naming the missing variable', () => {
    delete process.env.SOME_REQUIRED_THING;
    expect(() => env.requireEnv('SOME_REQUIRED_THING')).toThrow('Environment variable SOME_REQUIRED_THING is required but not set');
    process.env.SOME_REQUIRED_THING = '   ';
    expect(() => env.requireEnv('SOME_REQUIRED_THING')).toThrow(env.ConfigError);
    process.env.SOME_REQUIRED_THING = 'value';
    expect(env.requireEnv('SOME_REQUIRED_THING')).toBe('value');
  });

  it('applies the documented defaults', () => {
    const c = env.config();
    expect(c).toMatchObject({
      apiPort: 8000,
      jwtExpiry: '7d',
      githubUrl: 'https://github.com',
      githubApiUrl: 'https://api.github.com',
      rateLimitFreeTier: 10,
      rateLimitProTier: Number.POSITIVE_INFINITY,
      isLocal: true,
    });
  });

  it('parses limits and rejects nonsense naming the variable', () => {
    process.env.RATE_LIMIT_FREE_TIER = '25';
    process.env.RATE_LIMIT_PRO_TIER = 'unlimited';
    expect(env.config()).toMatchObject({ rateLimitFreeTier: 25, rateLimitProTier: Number.POSITIVE_INFINITY });
    process.env.API_PORT = 'eighty';
    expect(() => env.config()).toThrow('API_PORT');
  });

  it('is in AWS mode inside Lambda with a secrets ARN unless STAGE=local', () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'fn';
    process.env.APP_SECRETS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app';
    expect(env.isLocalStage()).toBe(false);
    process.env.STAGE = 'local';
    expect(env.isLocalStage()).toBe(true);
  });
});

describe('local secrets', () => {
  it('generates missing development secrets once, persists them privately and warns once without values', async () => {
    const warnings: string[] = [];
    const first = await env.loadSecrets((m) => warnings.push(m));
    expect(first.JWT_SECRET).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(first.GITHUB_WEBHOOK_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(first.TOKEN_ENCRYPTION_KEY ?? '', 'base64')).toHaveLength(32);
    expect(first.GITHUB_APP_PRIVATE_KEY).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('JWT_SECRET');
    for (const value of Object.values(first)) expect(warnings[0]).not.toContain(value);

    const file = join(process.env.CODEGUARDIAN_DATA_DIR as string, env.DEV_SECRETS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    await env.loadSecrets((m) => warnings.push(m));
    env.clearSecretsCache();
    const again = await env.loadSecrets((m) => warnings.push(m));
    expect(again).toEqual(first);
    expect(warnings).toHaveLength(1);
  });

  it('prefers values from the environment and generates nothing when all are set', async () => {
    process.env.JWT_SECRET = 'from-env-jwt';
    process.env.GITHUB_WEBHOOK_SECRET = 'from-env-hook';
    process.env.TOKEN_ENCRYPTION_KEY = 'from-env-key';
    const warnings: string[] = [];
    const secrets = await env.loadSecrets((m) => warnings.push(m));
    expect(secrets).toMatchObject({ JWT_SECRET: 'from-env-jwt', GITHUB_WEBHOOK_SECRET: 'from-env-hook' });
    expect(warnings).toEqual([]);
    expect(existsSync(join(process.env.CODEGUARDIAN_DATA_DIR as string, env.DEV_SECRETS_FILE))).toBe(false);
  });

  it('names a secret that is required but not configured', async () => {
    await expect(env.requireSecret('GITHUB_APP_PRIVATE_KEY')).rejects.toThrow('Secret GITHUB_APP_PRIVATE_KEY is required but missing');
  });
});

describe('secrets in AWS', () => {
  let server: StubServer;
  let secretString: string | undefined;
  let status = 200;

  beforeEach(async () => {
    server = await startStubServer((request, res) => {
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') return awsJson(res, 400, { message: 'unexpected' }, 'InvalidRequestException');
      if (status !== 200) return awsJson(res, status, { message: 'Secrets Manager can’t find the specified secret.' }, 'ResourceNotFoundException');
      awsJson(res, 200, { ARN: JSON.parse(request.body).SecretId, Name: 'app', SecretString: secretString });
    });
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = server.endpoint;
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'fn';
    process.env.APP_SECRETS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app';
    status = 200;
  });
  afterEach(async () => {
    await server.close();
  });

  it('reads the JSON secret once per cold start and never generates values', async () => {
    secretString = JSON.stringify({ JWT_SECRET: 'aws-jwt', GITHUB_WEBHOOK_SECRET: 'aws-hook', unrelated: 'x' });
    expect(await env.requireSecret('JWT_SECRET')).toBe('aws-jwt');
    expect(await env.loadSecrets()).toEqual({ JWT_SECRET: 'aws-jwt', GITHUB_WEBHOOK_SECRET: 'aws-hook' });
    expect(server.requests).toHaveLength(1);
    expect(JSON.parse(server.requests[0]?.body ?? '{}')).toEqual({ SecretId: process.env.APP_SECRETS_ARN });
    expect(existsSync(join(process.env.CODEGUARDIAN_DATA_DIR as string, env.DEV_SECRETS_FILE))).toBe(false);
  });

  it('reports a missing secret at cold start, naming it and not the others\' values', async () => {
    secretString = JSON.stringify({ GITHUB_WEBHOOK_SECRET: 'aws-hook-value' });
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      env.preloadSecrets(['JWT_SECRET']);
      for (let i = 0; i < 50 && written.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain('Secret JWT_SECRET is required but missing');
    expect(written.join('')).not.toContain('aws-hook-value');
    expect(server.requests).toHaveLength(1);
  });

  it('fails naming the missing secret', async () => {
    secretString = JSON.stringify({ GITHUB_WEBHOOK_SECRET: 'aws-hook' });
    await expect(env.requireSecret('JWT_SECRET')).rejects.toThrow('Secret JWT_SECRET is required but missing from the secret at APP_SECRETS_ARN');
  });

  it('fails clearly when the ARN is unset, the secret is unreadable or not JSON, and retries on the next call', async () => {
    delete process.env.APP_SECRETS_ARN;
    process.env.STAGE = 'prod';
    await expect(env.loadSecrets()).rejects.toThrow('Environment variable APP_SECRETS_ARN is required');
    process.env.APP_SECRETS_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app';
    status = 400;
    await expect(env.loadSecrets()).rejects.toThrow('Could not read the secret APP_SECRETS_ARN points to: ResourceNotFoundException');
    status = 200;
    secretString = 'not json';
    await expect(env.loadSecrets()).rejects.toThrow('is not valid JSON');
    secretString = JSON.stringify({ JWT_SECRET: 'ok' });
    await expect(env.requireSecret('JWT_SECRET')).resolves.toBe('ok');
  });
});

