/**
 * The scan pipeline's objects in the bucket, all under per-scan prefixes so a scan's data can be found, expired
 * and deleted together: `sources/<scanId>.tar.gz` (the archive as fetched) and `scans/<scanId>/…` (manifest,
 * plan, shard lists, findings).
 */
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ENV } from '../platform/declarations.ts';
import { s3 } from '../runtime/clients.ts';
import { requireEnv } from '../runtime/env.ts';

export const keys = {
  source: (scanId: string) => `sources/${scanId}.tar.gz`,
  manifest: (scanId: string) => `scans/${scanId}/manifest.json`,
  plan: (scanId: string) => `scans/${scanId}/plan.json`,
  shard: (scanId: string, index: number) => `scans/${scanId}/shards/${index}.json`,
  findingsPrefix: (scanId: string) => `scans/${scanId}/findings/`,
  findingsPart: (scanId: string, part: string) => `scans/${scanId}/findings/${part}.json`,
  /** The findings as the triage step (or any later rewrite) left them; wins over the parts when present. */
  findings: (scanId: string) => `scans/${scanId}/findings.json`,
  /** PR and branch scans: the findings new relative to the default branch. */
  newFindings: (scanId: string) => `scans/${scanId}/new-findings.json`,
};

const bucket = () => requireEnv(ENV.bucketName);

function isMissing(error: unknown): boolean {
  const name = (error as Error).name;
  return error instanceof NoSuchKey || name === 'NoSuchKey' || name === 'NotFound';
}

export async function putJson(key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket(), Key: key, Body: JSON.stringify(value), ContentType: 'application/json', ServerSideEncryption: 'AES256' }),
  );
}

/** A stored JSON object, or undefined when there is none. */
export async function getJson<T>(key: string): Promise<T | undefined> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    const text = await answer.Body?.transformToString('utf8');
    return text === undefined ? undefined : (JSON.parse(text) as T);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** A stored JSON object that must exist (an earlier step wrote it). */
export async function requireJson<T>(key: string): Promise<T> {
  const value = await getJson<T>(key);
  if (value === undefined) throw new Error(`Scan data ${key} is missing from the bucket`);
  return value;
}

/** Streams an object of unknown length into the bucket (multipart above one part), never buffering it whole. */
export function uploadStream(key: string, body: Readable, contentType: string): Upload {
  return new Upload({
    client: s3,
    params: { Bucket: bucket(), Key: key, Body: body, ContentType: contentType, ServerSideEncryption: 'AES256' },
    queueSize: 2,
    partSize: 8 * 1024 * 1024,
    leavePartsOnError: false,
  });
}

/** An object's body as a stream. */
export async function readStream(key: string): Promise<Readable> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
  if (!answer.Body) throw new Error(`Scan data ${key} has no body`);
  return answer.Body as Readable;
}

export async function deleteObject(key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket(), Key: key }));
}

/** Every key under a prefix, in key order. */
export async function listKeys(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket(), Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) found.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found.sort();
}
