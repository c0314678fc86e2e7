import type { FixerEntry } from './support.ts';

export const pythonFixers: readonly FixerEntry[] = [];
