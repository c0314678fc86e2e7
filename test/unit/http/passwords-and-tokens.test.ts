import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setBaseEnv } from '../runtime/support/aws-local.ts';

setBaseEnv();
process.env.TOKEN_ENCRYPTION_KEY = randomBytes(32).toString('base64');

const { hashPassword, verifyPassword, SCRYPT } = await import('../../../shared/http/auth.ts');
const { decryptToken, encryptToken, KMS_KEY_ENV, TokenDecryptionError } = await import('../../../shared/runtime/token-crypto.ts');
const { clearSecretsCache, ConfigError } = await import('../../../shared/runtime/env.ts');
const { requestLimit } = await import('../../../shared/http/rate-limit.ts');

describe('password hashing', () => {
  it('stores scrypt with its parameters and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('treats equivalent Unicode forms as the same password', async () => {
    const composed = await hashPassword('caf\u00e9 au lait!!');
    expect(await verifyPassword('cafe\u0301 au lait!!', composed)).toBe(true);
  });

  it('never matches a malformed or foreign hash', async () => {
    for (const stored of ['', 'plain', 'bcrypt$10$abc$def', 'scrypt$0$8$1$c2FsdA$aGFzaA', 'scrypt$32768$8$1$$', 'scrypt$x$8$1$c2FsdA$aGFzaA']) {
      expect(await verifyPassword('anything', stored)).toBe(false);
    }
  });
});

describe('token encryption with the local key', () => {
  afterEach(() => {
    process.env.TOKEN_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
    clearSecretsCache();
  });

  it('round-trips for the owner and fails for another owner or a tampered value', async () => {
    const sealed = await encryptToken('gho_exampletoken123', 'user-1');
    expect(sealed).toMatch(/^v1\.local\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(sealed).not.toContain('gho_');
    expect(await decryptToken(sealed, 'user-1')).toBe('gho_exampletoken123');
    await expect(decryptToken(sealed, 'user-2')).rejects.toBeInstanceOf(TokenDecryptionError);
    const parts = sealed.split('.');
    parts[4] = Buffer.from(Buffer.from(parts[4] as string, 'base64url').map((byte, i) => (i === 0 ? byte ^ 1 : byte))).toString('base64url');
    await expect(decryptToken(parts.join('.'), 'user-1')).rejects.toBeInstanceOf(TokenDecryptionError);
    await expect(decryptToken('v2.local.a.b.c', 'user-1')).rejects.toThrow('Unknown token encryption format');
    await expect(decryptToken('v1.kms.a', 'user-1')).rejects.toThrow('Unknown token encryption format');
  });

  it('uses a fresh IV each time and fails for a different key', async () => {
    const one = await encryptToken('same', 'u');
    expect(await encryptToken('same', 'u')).not.toBe(one);
    process.env.TOKEN_ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');
    clearSecretsCache();
    await expect(decryptToken(one, 'u')).rejects.toBeInstanceOf(TokenDecryptionError);
  });

  it('refuses a key that is not 32 bytes, naming the secret', async () => {
    process.env.TOKEN_ENCRYPTION_KEY = Buffer.alloc(16).toString('base64');
    clearSecretsCache();
    await expect(encryptToken('x', 'u')).rejects.toThrow(ConfigError);
    await expect(encryptToken('x', 'u')).rejects.toThrow('TOKEN_ENCRYPTION_KEY must be 32 bytes');
    expect(process.env[KMS_KEY_ENV]).toBeUndefined();
  });
});

describe('rate limit settings', () => {
  afterEach(() => {
    delete process.env.RATE_LIMIT_PUBLIC;
    delete process.env.RATE_LIMIT_USER;
  });

  it('defaults to SPEC section 4 and accepts overrides', () => {
    expect(requestLimit('public')).toBe(100);
    expect(requestLimit('user')).toBe(1000);
    process.env.RATE_LIMIT_USER = '25';
    expect(requestLimit('user')).toBe(25);
  });

  it('refuses a limit that is not a positive integer, naming the variable', () => {
    for (const bad of ['0', '-1', '1.5', 'lots']) {
      process.env.RATE_LIMIT_PUBLIC = bad;
      expect(() => requestLimit('public')).toThrow('RATE_LIMIT_PUBLIC must be a positive integer');
    }
  });
});
