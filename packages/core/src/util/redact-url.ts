/** What `redactUrl` shows for a string that does not start `scheme://`: no part of it (a libpq `host=... password=...` string). */
export const NOT_A_URL_SHOWN = '(not a URL; not shown)';
/**
 * What `redactUrl` shows after `scheme://` for a URL whose host it cannot surely tell: one with an `@` after its first
 * `?` or `#` (a password with an unescaped `?` or `#`, or an ordinary query such as `?application_name=svc@prod`).
 */
export const ADDRESS_NOT_SHOWN = '(address not shown)';
/** A URL scheme and `//` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** An absolute path with nothing that may carry a credential (`@`, `?`, `=`, `:`, `#`): a Unix socket, shown as it is. */
const PLAIN_PATH = /^\/[^@?=:#]*$/;

/**
 * `url` for messages and logs: without what may hold a credential - the user info (`user:password@`), the query
 * string (`?password=`, which pg and libpq read; `?api_key=`) and the fragment. A string that does not start with
 * `scheme://` (a libpq key/value string `host=db password=...`, `user:token@host`) is not shown at all
 * (`NOT_A_URL_SHOWN`), but for an absolute path without `@`, `?`, `=`, `:` or `#` (a Unix socket path such as
 * `/var/run/redis/redis.sock`), shown as it is. One that `parseUrlWithClearUserInfo` does not parse (no host, or an
 * `@` after the host) loses by text everything from its first `?` or `#` on, and everything between `://` and its
 * last `@` (a password with an unescaped `/`). When that last `@` comes after the first `?` or `#` (a password with
 * an unescaped `?` or `#`, or an ordinary query with an `@`: `?application_name=svc@prod`), where the host is cannot
 * be told: only `scheme://` and `ADDRESS_NOT_SHOWN` are shown.
 *
 * @example redactUrl('postgres://u:pw@db:5432/app?password=pw&sslmode=require') // 'postgres://db:5432/app'
 */
export function redactUrl(url: string): string {
  if (!SCHEME.test(url)) return PLAIN_PATH.test(url) ? url : NOT_A_URL_SHOWN;
  const u = parseUrlWithClearUserInfo(url);
  if (!u) return redactByText(url);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.href;
}

/**
 * `url` parsed (WHATWG URL) when its host and user info are surely where the parse puts them, else undefined: when it
 * does not parse, has no host, or has an `@` after the host. A password with an unescaped `/`, `?` or `#` ends the
 * host early: `redis://default:4821/SECRET@cache:6379` parses as host `default`, port 4821 (the user name and the
 * start of the password), its real host in the path; an `@` in the path, query or fragment says so. What reads a
 * host (or port) out of a store URL for a message uses this, and shows `redactUrl(url)` when it is undefined.
 */
export function parseUrlWithClearUserInfo(url: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.host || u.pathname.includes('@') || u.search.includes('@') || u.hash.includes('@')) return undefined;
  return u;
}

/**
 * `url` (with `://`) less everything from its first `?` or `#` on and between `://` and its last `@`; only `scheme://`
 * and `ADDRESS_NOT_SHOWN` when that `@` comes after the first `?` or `#` (nothing after either is ever shown).
 */
function redactByText(url: string): string {
  const authority = url.indexOf('://') + 3;
  const query = url.slice(authority).search(/[?#]/);
  const end = query === -1 ? url.length : authority + query;
  const at = url.lastIndexOf('@');
  if (at >= end) return url.slice(0, authority) + ADDRESS_NOT_SHOWN;
  return url.slice(0, authority) + url.slice(Math.max(authority, at + 1), end);
}
