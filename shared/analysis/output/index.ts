/** Report formats of a scan. */
import type { CompiledRule } from '../rule-pack.ts';
import type { ScanResult } from '../scanner.ts';
import { toJsonReport } from './json.ts';
import { toSarifText } from './sarif.ts';
import { toTextReport } from './text.ts';

export const OUTPUT_FORMATS = ['text', 'json', 'sarif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface RenderOptions {
  readonly toolVersion: string;
  readonly colour?: boolean;
  readonly rules?: readonly CompiledRule[];
}

export function renderReport(result: ScanResult, format: OutputFormat, options: RenderOptions): string {
  switch (format) {
    case 'json':
      return toJsonReport(result, options.toolVersion);
    case 'sarif':
      return toSarifText(result, { toolVersion: options.toolVersion, rules: options.rules });
    case 'text':
      return toTextReport(result, { colour: options.colour ?? false });
  }
}

export { toJsonReport, toSarifText, toTextReport };
