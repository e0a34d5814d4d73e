import { z } from 'zod';
import { invalidParameter, missingParameter } from './api-error.js';

/**
 * A request's parameters as the RPC style sends them: one flat map of strings from the query
 * string (and a form body). Lists are flattened (`InstanceId.1`, `Tag.1.Key`), booleans and
 * numbers are strings, `Parameters` is a JSON string.
 */
export type RequestParams = Readonly<Record<string, string>>;

/** `"42"` → 42. Lenient like the service: surrounding white space is ignored. */
export const IntegerParam = z
  .string()
  .trim()
  .regex(/^-?\d{1,15}$/, { error: 'must be a whole number' })
  .transform(Number);

/** `"true"` / `"false"`, in any case, as the SDK writes booleans into the query. */
export const BooleanParam = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
  .transform((value) => value === 'true');

/**
 * Reads the scalar parameters an action knows with a zod schema. Vendors' requests are parsed
 * leniently: unknown parameters (the SDK's `Format`, `Timestamp`, owner ids…) pass untouched.
 * A required parameter that is absent or empty is `MissingParameter`; a malformed one
 * `InvalidParameter`, naming the parameter and what it should be.
 */
export function readParams<Shape extends z.ZodRawShape>(shape: Shape, params: RequestParams): z.output<z.ZodObject<Shape>> {
  // An empty string means "not given" to the service, as the SDK never sends empty optionals.
  const present = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== ''));
  const result = z.looseObject(shape).safeParse(present);
  if (result.success) return result.data as z.output<z.ZodObject<Shape>>;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? 'request');
  if (present[name] === undefined) throw missingParameter(name);
  throw invalidParameter(name, issue.message);
}

/** The values of a flattened list, `Name.1`, `Name.2`, … in the order of N. */
export function listParam(params: RequestParams, name: string): string[] {
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.(\\d+)$`);
  return Object.entries(params)
    .flatMap(([key, value]) => {
      const match = pattern.exec(key);
      return match ? [{ n: Number(match[1]), value }] : [];
    })
    .sort((a, b) => a.n - b.n)
    .map((entry) => entry.value);
}

/** A flattened list of key/value objects: `Tag.1.Key`, `Tag.1.Value`, … in the order of N. */
export function tagsParam(params: RequestParams, name = 'Tag'): { key: string | undefined; value: string | undefined }[] {
  const pattern = new RegExp(`^${escapeRegExp(name)}\\.(\\d+)\\.(Key|Value)$`);
  const byIndex = new Map<number, { key: string | undefined; value: string | undefined }>();
  for (const [key, value] of Object.entries(params)) {
    const match = pattern.exec(key);
    if (!match) continue;
    const n = Number(match[1]);
    const entry = byIndex.get(n) ?? { key: undefined, value: undefined };
    if (match[2] === 'Key') entry.key = value;
    else entry.value = value;
    byIndex.set(n, entry);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
