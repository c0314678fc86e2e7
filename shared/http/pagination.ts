import * as v from 'valibot';
import { BadRequestError } from './errors.ts';

// List pagination (SPEC §4): `?page=&limit=` (limit ≤ 100) or the efficient `cursor=` form. Every list answers
// `{ <items>, total, page, perPage, nextCursor }`.

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** Deepest page reachable by number; beyond it callers follow `nextCursor`. */
export const MAX_PAGE = 500;

const positiveInt = (name: string, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,6}$/, `${name} must be a positive integer`),
    v.transform(Number),
    v.minValue(1, `${name} must be at least 1`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

/** Query-string entries every list route accepts; spread them into the route's query schema. */
export const paginationEntries = {
  page: v.optional(positiveInt('page', MAX_PAGE)),
  limit: v.optional(positiveInt('limit', MAX_LIMIT)),
  cursor: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(2048))),
};

export const PaginationQuerySchema = v.object(paginationEntries);

/** The validated pagination part of a list query. */
export type PaginationInput = { page?: number; limit?: number; cursor?: string } | undefined;

export interface PageRequest {
  readonly page: number;
  readonly limit: number;
  readonly cursor?: string;
}

/** The page asked for; a cursor and a page number other than 1 together are contradictory. */
export function pageRequest(query: PaginationInput): PageRequest {
  const page = query?.page ?? 1;
  if (query?.cursor !== undefined && page !== 1) {
    throw new BadRequestError('Use either cursor or page, not both', 'INVALID_PAGINATION');
  }
  return { page, limit: query?.limit ?? DEFAULT_LIMIT, cursor: query?.cursor };
}

/** Items to skip before a numbered page, when no cursor is given. */
export function offsetOf(request: PageRequest): number {
  return request.cursor === undefined ? (request.page - 1) * request.limit : 0;
}

export type ListBody<K extends string, T> = { [P in K]: T[] } & {
  total: number;
  page: number;
  perPage: number;
  nextCursor: string | null;
};

/** The list answer, items named after the resource. */
export function listBody<K extends string, T>(key: K, items: T[], request: PageRequest, total: number, nextCursor?: string): ListBody<K, T> {
  return { [key]: items, total, page: request.page, perPage: request.limit, nextCursor: nextCursor ?? null } as ListBody<K, T>;
}

/** Opaque cursor of a DynamoDB key. */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}

/** The key inside a cursor, checked to name only the expected attributes with string values. */
export function decodeCursor(cursor: string | undefined, attributes: readonly string[]): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === attributes.length &&
    attributes.every((name) => typeof (key as Record<string, unknown>)[name] === 'string');
  if (!valid) throw new BadRequestError('The cursor is not valid', 'INVALID_CURSOR');
  return key as Record<string, string>;
}
