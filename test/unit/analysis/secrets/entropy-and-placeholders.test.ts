import { describe, expect, it } from '@jest/globals';
import { charsetOf, entropyThreshold, isHighEntropy, shannonEntropy } from '../../../../shared/analysis/secrets/entropy.ts';
import { isDocumentedExample, isPlaceholder } from '../../../../shared/analysis/secrets/placeholders.ts';
import { base62, hasCrc32Checksum, isAzureSasSignature, isPemBody, isSignedJwt } from '../../../../shared/analysis/secrets/validators.ts';
import { BASE64, HEX, badChecksumToken, checksummedToken, jwt, randomText } from './tokens.ts';

describe('entropy', () => {
  it('computes Shannon entropy in bits per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abab')).toBe(1);
    expect(shannonEntropy('abcd')).toBe(2);
  });

  it('classifies character sets', () => {
    expect(charsetOf('deadBEEF01')).toBe('hex');
    expect(charsetOf('abc+/_-=XYZ')).toBe('base64');
    expect(charsetOf('p@ss w0rd!')).toBe('printable');
  });

  it('has no verdict below each charset minimum length and scales thresholds for short values', () => {
    expect(entropyThreshold(randomText(15, HEX))).toBeUndefined();
    expect(entropyThreshold(randomText(16, HEX))).toBeCloseTo(3.0);
    expect(entropyThreshold(randomText(7, '!@#$%^&*abc'))).toBeUndefined();
    expect(entropyThreshold(randomText(16, BASE64))).toBeCloseTo(Math.log2(16) * 0.85);
    expect(entropyThreshold(randomText(64, BASE64))).toBe(3.7);
  });

  it('separates random strings from structured ones', () => {
    expect(isHighEntropy(randomText(40, BASE64))).toBe(true);
    expect(isHighEntropy(randomText(32, HEX))).toBe(true);
    expect(isHighEntropy('abcabcabcabcabcabcabc')).toBe(false);
    expect(isHighEntropy('aaaaaaaaaaaaaaaaaaaaaaaaa')).toBe(false);
  });
});

describe('placeholders', () => {
  it.each([
    'changeme', 'xxx', '<your-key>', '${VAR}', '{{ token }}', 'process.env.TOKEN', 'os.environ["X"]', '%DB_PASS%',
    '$SECRET', 'zzzzzzzzzz', 'EXAMPLEKEY123', 'dummy', 'my-test-key', '123456789', 'abcdefghij', 'zyxwvuts',
    'password', 'null', 'a1', 'vault:secret/data/app',
  ])('%s is a placeholder', (value) => {
    expect(isPlaceholder(value)).toBe(true);
  });

  it.each(['Xk9#mQ2$vL7p', 'h/BvMlL9ofmyOv749Om', 'q8W3eR5t'])('%s is not', (value) => {
    expect(isPlaceholder(value)).toBe(false);
  });

  it('knows the AWS documentation keys', () => {
    expect(isDocumentedExample('AKIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(isDocumentedExample('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe(true);
    expect(isDocumentedExample('AKIAIOSFODNN7EXAMPLF')).toBe(false);
  });
});

describe('provider validators', () => {
  it('encodes base62 with left padding', () => {
    expect(base62(0, 6)).toBe('000000');
    expect(base62(61, 2)).toBe('0z');
    expect(base62(62, 2)).toBe('10');
  });

  it('verifies the CRC32 checksum of GitHub and npm tokens', () => {
    expect(hasCrc32Checksum(checksummedToken('gh' + 'p_', 2))).toBe(true);
    expect(hasCrc32Checksum(checksummedToken('np' + 'm_', 3))).toBe(true);
    expect(hasCrc32Checksum(badChecksumToken('gh' + 'p_', 2))).toBe(false);
    expect(hasCrc32Checksum('ghp_short')).toBe(false);
  });

  it('accepts signed JWTs only', () => {
    expect(isSignedJwt(jwt('RS256'))).toBe(true);
    expect(isSignedJwt(jwt('none'))).toBe(false);
    expect(isSignedJwt('eyJub3Rqc29u.eyJhIjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl')).toBe(false);
  });

  it('checks Azure SAS signature length and PEM bodies', () => {
    expect(isAzureSasSignature(encodeURIComponent(`${randomText(43, BASE64, 9)}=`))).toBe(true);
    expect(isAzureSasSignature('abc%3D')).toBe(false);
    expect(isAzureSasSignature('%E0%A4%A')).toBe(false);
    expect(isPemBody(randomText(100, BASE64))).toBe(true);
    expect(isPemBody('\n...\n')).toBe(false);
    expect(isPemBody('MIIEvQIBADANBg')).toBe(false);
  });
});
