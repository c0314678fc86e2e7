import type { FixerEntry } from './support.ts';

export const javascriptFixers: readonly FixerEntry[] = [];
