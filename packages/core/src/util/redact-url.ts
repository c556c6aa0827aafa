/** What `redactUrl` shows for a string that does not start `scheme://`: no part of it (a libpq `host=... password=...` string). */
export const NOT_A_URL_SHOWN = '(not a URL; not shown)';
/**
 * What `redactUrl` shows after `scheme://` for a URL whose host it cannot surely tell: one that may be a user name and
 * a password with an unescaped `?` or `#` (`redis://default:4821?SECRET@cache:6379`, see `parseUrlWithClearUserInfo`),
 * or that does not parse and has an `@` after its first `?` or `#`.
 */
export const ADDRESS_NOT_SHOWN = '(address not shown)';
/** A URL scheme and `//` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** An absolute path with nothing that may carry a credential (`@`, `?`, `=`, `:`, `#`): a Unix socket, shown as it is. */
const PLAIN_PATH = /^\/[^@?=:#]*$/;
/** A host name that cannot be a real one (RFC 2606 `.invalid`): what stands in for an empty host while parsing. */
const NO_HOST = 'host.invalid';

/**
 * `url` for messages and logs: without what may hold a credential - the user info (`user:password@`), the query
 * string (`?password=`, which pg and libpq read; `?api_key=`) and the fragment - as its clients read it (WHATWG URL,
 * as node-redis and pg do: the user info ends at the last `@` before the first `/`, `?` or `#` after `//`, so an `@`
 * in the query, `?application_name=svc@prod`, leaves host and path shown). A path with an `@` in it is not shown. A
 * URL without a host (a Unix socket's `unix://:pw@/run/redis.sock?db=2`) shows its path. A string that does not start
 * with `scheme://` (a libpq key/value string `host=db password=...`, `user:token@host`) is not shown at all
 * (`NOT_A_URL_SHOWN`), but for an absolute path without `@`, `?`, `=`, `:` or `#` (a Unix socket path such as
 * `/var/run/redis/redis.sock`), shown as it is. One whose host `parseUrlWithClearUserInfo` cannot surely tell (it does
 * not parse, or may be a password with an unescaped `/`, `?` or `#`) loses by text everything from its first `?` or
 * `#` on, and everything between `://` and its last `@`; when that last `@` comes after the first `?` or `#`, only
 * `scheme://` and `ADDRESS_NOT_SHOWN` are shown.
 *
 * @example redactUrl('postgres://u:pw@db:5432/app?password=pw&sslmode=require') // 'postgres://db:5432/app'
 */
export function redactUrl(url: string): string {
  if (!SCHEME.test(url)) return PLAIN_PATH.test(url) ? url : NOT_A_URL_SHOWN;
  const u = parseUrlWithClearUserInfo(url);
  if (u) return `${u.protocol}//${u.host}${u.pathname.includes('@') ? '' : u.pathname}`;
  // No host: `scheme://[user:password@]/path`, parsed with a stand-in host, shown without it.
  const bare = hostless(url);
  if (bare) return `${bare.protocol}//${bare.pathname.includes('@') ? '' : bare.pathname}`;
  return redactByText(url);
}

/**
 * `url` parsed (WHATWG URL, as node-redis and pg parse it) when its host and user info are surely where the parse puts
 * them, else undefined: when it does not parse, has no host, or may be a user name and a password holding an unescaped
 * `/`, `?` or `#`. Such a password ends the host early: `redis://default:4821/SECRET@cache:6379` parses as host
 * `default`, port 4821 (the user name and the start of the password), without user info. So a URL without user info
 * whose host is followed by a `:` (a port, or a password's start) and whose path has an `@`, or that has no path and
 * an `@` in its query or fragment, is not surely read; an `@` elsewhere in the query or fragment
 * (`redis://cache:6379/0?client_name=svc@prod`, `postgres://u:pw@db/app?application_name=svc@prod`) is. What reads a
 * host (or port) out of a store URL for a message uses this, and shows `redactUrl(url)` when it is undefined.
 */
export function parseUrlWithClearUserInfo(url: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.host || mayEndInPassword(url, u)) return undefined;
  return u;
}

/**
 * Whether the host and port of `u` (parsed from `url`) may be a user name and the start of a password with an
 * unescaped `/`, `?` or `#`: no user info, a `:` in the authority (not an IPv6 literal), and an `@` in the path, or,
 * with no path, in the query or fragment.
 */
function mayEndInPassword(url: string, u: URL): boolean {
  if (u.username || u.password) return false;
  const slashes = url.indexOf('//');
  if (slashes === -1) return false;
  const rest = url.slice(slashes + 2);
  const end = rest.search(/[/?#\\]/);
  if (end === -1) return false;
  const authority = rest.slice(0, end);
  if (authority.startsWith('[') || !authority.includes(':')) return false;
  return rest[end] === '/' || rest[end] === '\\' ? u.pathname.includes('@') : rest.slice(end).includes('@');
}

/** `url` of the form `scheme://[user:password@]/path...` (no host) parsed with a stand-in host, else undefined. */
function hostless(url: string): URL | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*@)?\//.exec(url);
  if (!m) return undefined;
  try {
    const u = new URL(`${m[1]}${m[2] ?? ''}${NO_HOST}${url.slice(m[0].length - 1)}`);
    return u.hostname === NO_HOST ? u : undefined;
  } catch {
    return undefined;
  }
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
