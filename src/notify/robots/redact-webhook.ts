/*
 * A robot's webhook URL is its password: whoever has `access_token` (DingTalk) or the hook token
 * (Lark) can post to the group, and a `sign` with its `timestamp` stays valid for an hour. Nothing
 * rollcall logs, stores in status or puts in an error may contain them.
 */

const MASK = '***';
/** Query parameters that are secrets, or that together with one replay a signed request. */
const SECRET_PARAMS = ['access_token', 'sign', 'timestamp'];

/**
 * The URL with `access_token`, `sign`, `timestamp` and the Lark hook token (the path segment after
 * `/hook/`) replaced by `***`. Text that is not a URL comes back as `***` entirely: it could be
 * anything, a pasted secret included.
 */
export function redactWebhook(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return MASK;
  }
  parsed.username = parsed.username ? MASK : '';
  parsed.password = parsed.password ? MASK : '';
  parsed.pathname = parsed.pathname.replace(/(\/hook\/)[^/]+/g, `$1${MASK}`);
  for (const name of SECRET_PARAMS) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, MASK);
  parsed.hash = '';
  // URLSearchParams leaves `*` alone, so the mask reads as typed.
  return parsed.toString();
}

/**
 * The secret strings a webhook and its signing secret hold, in every spelling a server or a
 * library may echo them (raw and percent-encoded), longest first so a longer one is never left
 * half-replaced by a shorter one inside it.
 */
export function webhookSecrets(url: string, secret: string | undefined): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined | null) => {
    if (!value || value === MASK) return;
    found.add(value);
    found.add(encodeURIComponent(value));
  };
  add(secret);
  try {
    const parsed = new URL(url);
    for (const name of SECRET_PARAMS.filter((name) => name !== 'timestamp')) add(parsed.searchParams.get(name));
    for (const match of parsed.pathname.matchAll(/\/hook\/([^/]+)/g)) add(decodeURIComponent(match[1] ?? ''));
    add(parsed.username);
    add(parsed.password);
  } catch {
    add(url);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** A function that takes every secret of this webhook (and any per-request `sign`) out of a text. */
export function secretScrubber(url: string, secret: string | undefined): (text: string, extra?: readonly string[]) => string {
  const secrets = webhookSecrets(url, secret);
  const redactedUrl = redactWebhook(url);
  return (text, extra = []) => {
    let out = text.split(url).join(redactedUrl);
    const all = [...extra.flatMap((value) => (value ? [value, encodeURIComponent(value), decodeURIComponentSafe(value)] : [])), ...secrets];
    for (const value of all.sort((a, b) => b.length - a.length)) if (value.length > 0) out = out.split(value).join(MASK);
    return out;
  };
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
