import { EcsApiError } from './api-error.js';
import { tagsParam, type RequestParams } from './request-params.js';

/** One `Tag.N` (or `ResourceTag.N`) filter: the key must be there, the value too when given. */
export interface TagFilter {
  key: string;
  value: string | undefined;
}

/** Tags per request, as the API documents (N from 1 to 20). */
const MAX_TAGS = 20;

/**
 * The tag filters of a request, `Tag.N.Key` / `Tag.N.Value` by default. Throws `NumberExceed.Tags`
 * (more than 20) and `MissingParameter.TagKey` (a value without a key), or the `ResourceTag`
 * variants of both.
 */
export function readTagFilters(params: RequestParams, prefix: 'Tag' | 'ResourceTag' = 'Tag'): TagFilter[] {
  const tags = tagsParam(params, prefix);
  if (tags.length > MAX_TAGS) throw new EcsApiError(400, `NumberExceed.${prefix}s`, `The ${prefix} parameter number is exceeded: ${tags.length} given, at most ${MAX_TAGS}.`);
  return tags.map(({ key, value }) => {
    if (key === undefined || key === '') throw new EcsApiError(400, `MissingParameter.${prefix}Key`, `You must specify ${prefix}.N.Key.`);
    return { key, value };
  });
}

/** Whether an instance's tags pass every filter. */
export function matchesTags(tags: Readonly<Record<string, string>>, filters: readonly TagFilter[]): boolean {
  return filters.every(({ key, value }) => Object.hasOwn(tags, key) && (value === undefined || tags[key] === value));
}
