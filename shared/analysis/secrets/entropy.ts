/**
 * Shannon entropy with thresholds per character set. A random string's entropy is bounded by log2 of its
 * length and of its alphabet, so thresholds are scaled down for short values instead of being one number.
 */

export type Charset = 'hex' | 'base64' | 'printable';

/** Bits per character of `value`. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

export function charsetOf(value: string): Charset {
  if (/^[0-9a-f]+$/i.test(value)) return 'hex';
  if (/^[A-Za-z0-9+/=_-]+$/.test(value)) return 'base64';
  return 'printable';
}

/** Full-length thresholds: random hex sits near 3.7–4.0 bits, random base64 near 5–6, passwords lower. */
const THRESHOLDS: Record<Charset, { readonly bits: number; readonly minLength: number }> = {
  hex: { bits: 3.0, minLength: 16 },
  base64: { bits: 3.7, minLength: 16 },
  printable: { bits: 3.0, minLength: 8 },
};

/** Entropy a value must reach to count as a random secret; undefined when it is too short to judge. */
export function entropyThreshold(value: string, charset: Charset = charsetOf(value)): number | undefined {
  const { bits, minLength } = THRESHOLDS[charset];
  if (value.length < minLength) return undefined;
  // log2(length) is the ceiling for a string with no repeated character; 85 % of it is still random-looking.
  return Math.min(bits, Math.log2(value.length) * 0.85);
}

export function isHighEntropy(value: string): boolean {
  const threshold = entropyThreshold(value);
  return threshold !== undefined && shannonEntropy(value) >= threshold;
}
