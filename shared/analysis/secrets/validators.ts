/**
 * Format checks defined by the providers themselves. A token that passes its provider's checksum is almost
 * certainly real, so these raise confidence; a token that fails it is a typo or a made-up example.
 */
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, '0');
}

/**
 * GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) and npm (`npm_`) tokens: 30 random base62 characters then
 * the CRC32 of those characters in 6 base62 digits.
 */
export function hasCrc32Checksum(token: string): boolean {
  const body = token.slice(token.indexOf('_') + 1);
  if (!/^[A-Za-z0-9]{36}$/.test(body)) return false;
  const random = body.slice(0, 30);
  return base62(crc32(random) >>> 0, 6) === body.slice(30);
}

function decodeBase64Url(segment: string): string | undefined {
  try {
    return Buffer.from(segment, 'base64url').toString('utf8');
  } catch {
    return undefined;
  }
}

/** A JWT whose header is JSON naming a signing algorithm other than `none` (unsigned tokens carry no secret). */
export function isSignedJwt(token: string): boolean {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  const decoded = decodeBase64Url(header);
  if (!decoded) return false;
  try {
    const parsed: unknown = JSON.parse(decoded);
    if (typeof parsed !== 'object' || parsed === null) return false;
    const alg = (parsed as Record<string, unknown>).alg;
    return typeof alg === 'string' && alg.toLowerCase() !== 'none' && JSON.parse(decodeBase64Url(payload) ?? '') !== null;
  } catch {
    return false;
  }
}

/** Azure storage account keys are 64 random bytes in base64. */
export function isAzureAccountKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{86}==$/.test(key);
}

/** Azure SAS signatures are HMAC-SHA256 values: 32 bytes in base64, possibly URL-encoded. */
export function isAzureSasSignature(sig: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(sig);
  } catch {
    return false;
  }
  return /^[A-Za-z0-9+/]{43}=$/.test(decoded);
}

/** A PEM body holds real key material: at least 64 base64 characters and no `...` stand-in. */
export function isPemBody(body: string): boolean {
  if (/\.\.\.|…|x{8}/i.test(body)) return false;
  const material = body.replace(/\\[nr]/g, '').replace(/[^A-Za-z0-9+/=]/g, '');
  return material.length >= 64;
}
