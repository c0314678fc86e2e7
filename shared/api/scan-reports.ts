import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ScanResult } from '../analysis/scanner.ts';
import { toJsonReport, toSarifText } from '../analysis/output/index.ts';
import { ENV } from '../platform/declarations.ts';
import { s3 } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';

export const REPORT_FORMATS = ['json', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = { json: 'application/json', sarif: 'application/sarif+json' };

/** Where a scan's report of one format is kept in the bucket. */
export const reportKey = (scanId: string, format: ReportFormat) => `reports/${scanId}/report.${format}`;

/** Write a scan's JSON and SARIF reports (server-side encrypted) and return their keys. */
export async function saveScanReports(scanId: string, result: ScanResult, toolVersion: string): Promise<Record<ReportFormat, string>> {
  const bodies: Record<ReportFormat, string> = { json: toJsonReport(result, toolVersion), sarif: toSarifText(result, { toolVersion }) };
  const bucket = requireEnv(ENV.bucketName);
  const keys = { json: reportKey(scanId, 'json'), sarif: reportKey(scanId, 'sarif') };
  await Promise.all(
    REPORT_FORMATS.map((format) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[format], Body: bodies[format], ContentType: CONTENT_TYPES[format], ServerSideEncryption: 'AES256' })),
    ),
  );
  return keys;
}

/** A stored report's text, or undefined when it is not (yet) in the bucket. */
export async function readScanReport(key: string): Promise<string | undefined> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: requireEnv(ENV.bucketName), Key: key }));
    return await answer.Body?.transformToString('utf8');
  } catch (error) {
    if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey' || (error as Error).name === 'NotFound') return undefined;
    throw error;
  }
}

export function reportContentType(format: ReportFormat): string {
  return CONTENT_TYPES[format];
}
