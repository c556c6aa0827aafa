/** What `redactUrl` shows for a string that does not start `scheme://`: no part of it (a libpq `host=... password=...` string). */
export const NOT_A_URL_SHOWN = '(not a URL; not shown)';
/** A URL scheme and `//` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** An absolute path with nothing that may carry a credential (`@`, `?`, `=`, `:`, `#`): a Unix socket, shown as it is. */
const PLAIN_PATH = /^\/[^@?=:#]*$/;

/**
 * `url` for messages and logs: without what may hold a credential - the user info (`user:password@`), the query
 * string (`?password=`, which pg and libpq read; `?api_key=`) and the fragment. A string that does not start with
 * `scheme://` (a libpq key/value string `host=db password=...`, `user:token@host`) is not shown at all
 * (`NOT_A_URL_SHOWN`), but for an absolute path without `@`, `?`, `=`, `:` or `#` (a Unix socket path such as
 * `/var/run/redis/redis.sock`), shown as it is. One that does but does not parse with a host, or whose path has an `@` (a password with an
 * unescaped `/`: `postgres://user:12/pw@db/app` parses as host `user`, port 12), loses by text everything between
 * `://` and its last `@`, and from its first `?` or `#` on.
 *
 * @example redactUrl('postgres://u:pw@db:5432/app?password=pw&sslmode=require') // 'postgres://db:5432/app'
 */
export function redactUrl(url: string): string {
  if (!SCHEME.test(url)) return PLAIN_PATH.test(url) ? url : NOT_A_URL_SHOWN;
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u?.host || u.pathname.includes('@')) return redactByText(url);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.href;
}

/** `url` (with `://`) less everything between `://` and its last `@`, and from its first `?` or `#` on. */
function redactByText(url: string): string {
  const authority = url.indexOf('://') + 3;
  const at = url.lastIndexOf('@');
  const rest = url.slice(Math.max(authority, at + 1));
  const end = rest.search(/[?#]/);
  return url.slice(0, authority) + (end === -1 ? rest : rest.slice(0, end));
}
