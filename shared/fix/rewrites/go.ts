import type { FixerEntry } from './support.ts';

export const goFixers: readonly FixerEntry[] = [];
