/**
 * Credentials for the tests, assembled at run time from a seeded generator so no real-looking secret is
 * stored in the repository (and push protection has nothing to flag).
 */
import { crc32 } from 'node:zlib';
import { base62 } from '../../../../shared/analysis/secrets/validators.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export const HEX = '0123456789abcdef';
export const BASE64 = `${ALNUM}+/`;
export const BASE64URL = `${ALNUM}-_`;

/** Deterministic pseudo-random text (mulberry32), so failures reproduce. */
export function randomText(length: number, alphabet = ALNUM, seed = length * 7919 + alphabet.length): string {
  let state = seed >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out += alphabet[Math.floor(r * alphabet.length)];
  }
  return out;
}

/** `prefix` + 30 random characters + their CRC32 in base62, the GitHub/npm token format. */
export function checksummedToken(prefix: string, seed = 1): string {
  const random = randomText(30, ALNUM, seed);
  return `${prefix}${random}${base62(crc32(random) >>> 0, 6)}`;
}

/** Same format with the last checksum digit changed. */
export function badChecksumToken(prefix: string, seed = 1): string {
  const good = checksummedToken(prefix, seed);
  const last = good.slice(-1) === 'A' ? 'B' : 'A';
  return good.slice(0, -1) + last;
}

const b64url = (value: string): string => Buffer.from(value).toString('base64url');

export function jwt(alg: string, seed = 3): string {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: randomText(12, ALNUM, seed), iat: 1700000000, role: 'admin' }));
  return `${header}.${payload}.${randomText(43, BASE64URL, seed + 1)}`;
}

export function pemBody(seed = 5): string {
  const raw = randomText(64 * 12, BASE64, seed);
  return raw.match(/.{1,64}/g)?.join('\n') ?? raw;
}

/** A named set used by the positive tests and fixture templates. */
export function sampleSecrets(): Record<string, string> {
  return {
    GITHUB_TOKEN: checksummedToken('gh' + 'p_', 11),
    GITHUB_APP_TOKEN: checksummedToken('gh' + 's_', 12),
    NPM_TOKEN: checksummedToken('np' + 'm_', 13),
    GITHUB_PAT: `github_pat_${randomText(22, ALNUM, 14)}_${randomText(59, ALNUM, 15)}`,
    GITLAB_TOKEN: `glpat-${randomText(20, BASE64URL, 16)}`,
    SLACK_TOKEN: `xo${'xb'}-${randomText(11, '0123456789', 17)}-${randomText(12, '0123456789', 18)}-${randomText(24, ALNUM, 19)}`,
    SLACK_WEBHOOK: `https://hooks.slack.com/services/T${randomText(8, BASE32, 20)}/B${randomText(10, BASE32, 21)}/${randomText(24, ALNUM, 22)}`,
    STRIPE_KEY: `sk_${'live'}_${randomText(24, ALNUM, 23)}`,
    STRIPE_RESTRICTED_KEY: `rk_${'live'}_${randomText(34, ALNUM, 24)}`,
    AWS_KEY_ID: `AK${'IA'}${randomText(16, BASE32, 25)}`,
    AWS_SECRET: randomText(40, BASE64, 26),
    GOOGLE_API_KEY: `AI${'za'}${randomText(35, BASE64URL, 27)}`,
    AZURE_ACCOUNT_KEY: `${randomText(86, BASE64, 28)}==`,
    AZURE_SAS_SIG: encodeURIComponent(`${randomText(43, BASE64, 29)}=`),
    TWILIO_API_KEY: `S${'K'}${randomText(32, HEX, 30)}`,
    TWILIO_ACCOUNT_SID: `A${'C'}${randomText(32, HEX, 31)}`,
    TWILIO_AUTH_TOKEN: randomText(32, HEX, 32),
    SENDGRID_KEY: `S${'G'}.${randomText(22, BASE64URL, 33)}.${randomText(43, BASE64URL, 34)}`,
    PYPI_TOKEN: `py${'pi'}-AgEIcHlwaS5vcmc${randomText(70, BASE64URL, 35)}`,
    JWT: jwt('HS256'),
    DB_PASSWORD: `${randomText(10, ALNUM, 36)}!9`,
    GENERIC_SECRET: randomText(32, BASE64, 37),
    PEM_BODY: pemBody(),
  };
}

/** Replace `@@NAME@@` slots in a fixture template. */
export function fillTemplate(template: string, secrets: Record<string, string>): string {
  return template.replace(/@@([A-Z_]+)@@/g, (_, name: string) => {
    const value = secrets[name];
    if (value === undefined) throw new Error(`fixture slot @@${name}@@ has no value`);
    return value;
  });
}
