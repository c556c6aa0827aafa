/** What `redactUrl` shows for a string that does not start `scheme://`: no part of it (a libpq `host=... password=...` string). */
export const NOT_A_URL_SHOWN = '(not a URL; not shown)';
/**
 * What `redactUrl` shows after `scheme://` for a URL whose host it cannot surely tell: one whose user info may hold a
 * password with an unescaped `/`, `?` or `#` (see `parseUrlWithClearUserInfo`) whose `@` comes after its first `?` or
 * `#` (`redis://default:4821?SECRET@cache:6379`, `redis://default:S3@CR?ET@cache`).
 */
export const ADDRESS_NOT_SHOWN = '(address not shown)';
/** A URL scheme and `//` at the start (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
/** An absolute path with nothing that may carry a credential (`@`, `?`, `=`, `:`, `#`): a Unix socket, shown as it is. */
const PLAIN_PATH = /^\/[^@?=:#]*$/;
/** WHATWG URL's special schemes: a host is read after any number of `/` and `\`. */
const SPECIAL_SCHEME = /^(?:https?|wss?|ftp|file):/i;
/** A host name that cannot be a real one (RFC 2606 `.invalid`): what stands in for an empty host while parsing. */
const NO_HOST = 'host.invalid';

/**
 * `url` for messages and logs: without what may hold a credential - the user info (`user:password@`), the query
 * string (`?password=`, which pg and libpq read; `?api_key=`) and the fragment - and never a part of a password. A URL
 * whose host `parseUrlWithClearUserInfo` surely reads (WHATWG URL, as node-redis and pg read it) shows
 * `scheme://host[:port]/path`; so does one without a host (a Unix socket's `unix://:pw@/run/redis.sock?db=2`, its
 * path). Any other (it does not parse, or its user info may hold a password with an unescaped `/`, `?` or `#`, such as
 * `redis://default:S3@CR/ET@cache:6379`) loses by text everything from its first `?` or `#` on, and everything
 * between `://` and its last `@`; when that last `@` comes after the first `?` or `#`, only `scheme://` and
 * `ADDRESS_NOT_SHOWN` are shown. A string that does not start with `scheme://` (a libpq key/value string
 * `host=db password=...`, `user:token@host`) is not shown at all (`NOT_A_URL_SHOWN`), but for an absolute path
 * without `@`, `?`, `=`, `:` or `#` (a Unix socket path such as `/var/run/redis/redis.sock`), shown as it is.
 *
 * @example redactUrl('postgres://u:pw@db:5432/app?password=pw&sslmode=require') // 'postgres://db:5432/app'
 */
export function redactUrl(url: string): string {
  if (!SCHEME.test(url)) return PLAIN_PATH.test(url) ? url : NOT_A_URL_SHOWN;
  const u = parseUrlWithClearUserInfo(url);
  if (u) return `${u.protocol}//${u.host}${u.pathname}`;
  // No host: `scheme://[user:password@]/path`, parsed with a stand-in host, shown without it.
  const bare = hostless(url);
  if (bare && !mayHoldUserInfo(bare)) return `${bare.protocol}//${bare.pathname}`;
  return redactByText(url);
}

/**
 * `url` parsed (WHATWG URL, as node-redis and pg parse it) when its host and user info are surely where the parse puts
 * them, else undefined: when it does not parse, has no host, or may have user info holding an unescaped `/`, `?` or
 * `#` (and so an `@` after where the parse ends the host). Such a password ends the host early:
 * `redis://default:4821/SECRET@cache:6379` parses as host `default`, port 4821, without user info, and
 * `redis://default:S3@CR/ET@cache:6379` as user info `default:S3` and host `CR`. So it is undefined when an `@`
 * follows the host anywhere but inside a `key=value` value of the query or fragment (an `@` in the path, which no
 * store URL has; `?S3CRET@cache`), and when a URL without user info or path has an `@` in its query or fragment (its
 * host and port may be a user name and a password's start: `redis://default:4821?k=S3CRET@cache`). An `@` in a query
 * value after a path or user info (`redis://cache:6379/0?client_name=svc@prod`,
 * `postgres://u:pw@db/app?application_name=svc@prod`) is read as the clients read it. What reads a host (or port) out
 * of a store URL for a message uses this, and shows `redactUrl(url)` when it is undefined.
 */
export function parseUrlWithClearUserInfo(url: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (!u.host || mayHoldUserInfo(u)) return undefined;
  if (!u.username && !u.password && (u.pathname === '' || u.pathname === '/') && (u.search + u.hash).includes('@')) return undefined;
  return u;
}

/**
 * Whether what `u` parsed as its path, query or fragment may be the rest of user info (a password with an unescaped
 * `/`, `?` or `#`, up to an `@`): an `@` in the path, or one in the query or fragment outside a `key=value` value.
 */
function mayHoldUserInfo(u: URL): boolean {
  if (u.pathname.includes('@')) return true;
  return [u.search, u.hash].some((part) => part.slice(1).split('&').some((pair) => pair.includes('@') && !/^[^=@]+=[^@]*@/.test(pair)));
}

/**
 * `url` of the form `scheme://[user:password@]/path...` (no host) parsed with a stand-in host, else undefined. Not for
 * WHATWG's special schemes (`http`, `https`, `ws`, `wss`, `ftp`, `file`), whose parse skips extra slashes and reads
 * `https:///host:port` as `host:port`.
 */
function hostless(url: string): URL | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*@)?\//.exec(url);
  if (!m || SPECIAL_SCHEME.test(url)) return undefined;
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
