import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ConfigError, requireSecret } from './env.ts';
import { ENV } from '../platform/declarations.ts';

/**
 * Encryption at rest of third-party tokens (GitHub user tokens). AES-256-GCM; the key is either the local
 * `TOKEN_ENCRYPTION_KEY` secret (local stack) or, when `TOKEN_ENCRYPTION_KMS_KEY_ID` is set, a fresh KMS data
 * key per value (envelope encryption: only KMS can unwrap the stored data key). The owner's id is bound in as
 * additional authenticated data and KMS encryption context, so a ciphertext moved to another user fails.
 *
 * Formats: `v1.local.<iv>.<tag>.<ciphertext>` and `v1.kms.<wrappedKey>.<iv>.<tag>.<ciphertext>` (base64url).
 */

export const KMS_KEY_ENV = ENV.tokenKmsKeyId;

export class TokenDecryptionError extends Error {
  override readonly name = 'TokenDecryptionError';
}

let kms: KMSClient | undefined;
const kmsClient = (): KMSClient => (kms ??= new KMSClient({}));

const b64 = (buffer: Uint8Array): string => Buffer.from(buffer).toString('base64url');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64url');

async function localKey(): Promise<Buffer> {
  const key = Buffer.from(await requireSecret('TOKEN_ENCRYPTION_KEY'), 'base64');
  if (key.length !== 32) throw new ConfigError('Secret TOKEN_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return key;
}

function seal(key: Uint8Array, plaintext: string, aad: string): string[] {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)];
}

function open(key: Uint8Array, [iv, tag, ciphertext]: string[], aad: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, unb64(iv ?? ''));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(unb64(tag ?? ''));
    return Buffer.concat([decipher.update(unb64(ciphertext ?? '')), decipher.final()]).toString('utf8');
  } catch {
    throw new TokenDecryptionError('The stored token cannot be decrypted with this key and owner');
  }
}

const context = (ownerId: string) => ({ purpose: 'codeguardian-token', ownerId });

/** Encrypts `plaintext` for the owner `ownerId`. */
export async function encryptToken(plaintext: string, ownerId: string): Promise<string> {
  const aad = `owner:${ownerId}`;
  const keyId = process.env[KMS_KEY_ENV]?.trim();
  if (!keyId) return ['v1', 'local', ...seal(await localKey(), plaintext, aad)].join('.');
  const dataKey = await kmsClient().send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context(ownerId) }),
  );
  if (!dataKey.Plaintext || !dataKey.CiphertextBlob) throw new Error('KMS returned no data key');
  try {
    return ['v1', 'kms', b64(dataKey.CiphertextBlob), ...seal(dataKey.Plaintext, plaintext, aad)].join('.');
  } finally {
    dataKey.Plaintext.fill(0);
  }
}

/** Decrypts a value from {@link encryptToken} for the same owner; a tampered value or another owner fails. */
export async function decryptToken(sealed: string, ownerId: string): Promise<string> {
  const aad = `owner:${ownerId}`;
  const [version, kind, ...parts] = sealed.split('.');
  if (version !== 'v1') throw new TokenDecryptionError('Unknown token encryption format');
  if (kind === 'local' && parts.length === 3) return open(await localKey(), parts, aad);
  if (kind === 'kms' && parts.length === 4) {
    const [wrapped, ...rest] = parts;
    let key: Uint8Array | undefined;
    try {
      ({ Plaintext: key } = await kmsClient().send(
        new DecryptCommand({ CiphertextBlob: unb64(wrapped ?? ''), EncryptionContext: context(ownerId) }),
      ));
    } catch (error) {
      if ((error as Error).name === 'InvalidCiphertextException') throw new TokenDecryptionError('KMS refused the data key');
      throw error;
    }
    if (!key) throw new Error('KMS returned no plaintext key');
    try {
      return open(key, rest, aad);
    } finally {
      key.fill(0);
    }
  }
  throw new TokenDecryptionError('Unknown token encryption format');
}
