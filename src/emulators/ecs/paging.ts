import { z } from 'zod';
import { invalidParameter } from './api-error.js';
import { IntegerParam, readParams, type RequestParams } from './request-params.js';

/** A page of a list, and the fields every paged reply carries. */
export interface Page<T> {
  items: T[];
  reply: { NextToken: string; PageNumber: number; PageSize: number; TotalCount: number };
}

export interface PageLimits {
  /** Entries per page when the request names none. */
  defaultSize: number;
  /** Most entries per page. */
  maxSize: number;
  /**
   * An out-of-range `MaxResults` is brought into range instead of refused (DescribeInstances
   * documents: under 10 → 10, over 100 → 100). `PageSize` is always checked.
   */
  clampMaxResults?: boolean;
}

const PagingParams = {
  MaxResults: IntegerParam.optional(),
  NextToken: z.string().optional(),
  PageNumber: IntegerParam.optional(),
  PageSize: IntegerParam.optional(),
};

/**
 * One page of `items`, by either paging style the API offers: `MaxResults` + `NextToken` (the
 * token here is the offset, base64-encoded: opaque to callers), or the older `PageNumber` +
 * `PageSize`. `NextToken` in the reply is '' on the last page.
 * Throws `InvalidParameter` for a size out of range or a token this emulator did not hand out.
 */
export function paginate<T>(items: readonly T[], params: RequestParams, limits: PageLimits): Page<T> {
  const { MaxResults, NextToken, PageNumber, PageSize } = readParams(PagingParams, params);
  const size = MaxResults !== undefined ? pageSize(MaxResults, 'MaxResults', limits, limits.clampMaxResults ?? false) : pageSize(PageSize, 'PageSize', limits, false);
  let offset = 0;
  if (NextToken !== undefined) {
    offset = decodeToken(NextToken);
  } else if (PageNumber !== undefined) {
    if (PageNumber < 1) throw invalidParameter('PageNumber', 'must be 1 or more');
    offset = (PageNumber - 1) * size;
  }
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? encodeToken(offset + size) : '';
  return { items: page, reply: { NextToken: next, PageNumber: Math.floor(offset / size) + 1, PageSize: size, TotalCount: items.length } };
}

function pageSize(requested: number | undefined, name: string, limits: PageLimits, clamp: boolean): number {
  if (requested === undefined) return limits.defaultSize;
  if (clamp) return Math.min(Math.max(requested, limits.defaultSize), limits.maxSize);
  if (requested < 1 || requested > limits.maxSize) throw invalidParameter(name, `must be from 1 to ${limits.maxSize}`);
  return requested;
}

function encodeToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

function decodeToken(token: string): number {
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw invalidParameter('NextToken', 'pass the NextToken of the previous reply unchanged');
  return Number(match[1]);
}
