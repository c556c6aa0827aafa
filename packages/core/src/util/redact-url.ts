import { isIP } from 'node:net';

/** What `redactUrl` shows for a string that does not start `scheme://`: no part of it (a libpq `host=... password=...` string). */
export const NOT_A_URL_SHOWN = '(not a URL; not shown)';
/**
 * What `redactUrl` shows after `scheme://` for a URL whose host it cannot surely tell: one with an `@` after its first
 * `?` or `#` (in its query or fragment), which may end user info holding a password with an unescaped `?` or `#`
 * (`redis://default:4821?SECRET@cache:6379`, `redis://user:AB@SECRET?client_name=EF@cache`,
 * `redis://cache:6379/0?client_name=svc@prod`: an `@` in a query value is written `%40` to be shown).
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
 * string (`?password=`, which pg and libpq read; `?api_key=`) and the fragment - and never a part of the user info (a
 * user name or password). A URL whose host `parseUrlWithClearUserInfo` surely reads (WHATWG URL, as node-redis and pg
 * read it) shows `scheme://host[:port]/path`; one without a host shows its path (a Unix socket's
 * `unix://:pw@/run/redis.sock?db=2`). Any other (it does not parse, or it has an `@` after its host, so its user info
 * may hold a password with an unescaped `/`, `?` or `#`, such as `redis://default:S3@CR/ET@cache:6379`) loses by text
 * everything from its first `?` or `#` on, and everything between `://` and its last `@`; when that last `@` comes
 * after the first `?` or `#` (any raw `@` in the query or fragment: `%40` is none), only `scheme://` and
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
 * `redactUrl(url)` for a PostgreSQL URL, naming where pg connects: the query's `host` and `port` (the last value of
 * each, an empty one leaving the URL's own, as pg-connection-string reads them) over the URL's own host and port
 * (`postgres://u:pw@db1/app?host=db2&port=6543` shows `postgres://db2:6543/app`; a socket directory,
 * `postgres://u:pw@/app?host=/var/run/postgresql`, is shown as pg also reads it, percent-encoded as the host:
 * `postgres://%2Fvar%2Frun%2Fpostgresql/app`). Only for a URL whose address is sure (`isAddressSure`), and a `?host=`
 * that is a socket directory, a host name or an IP address (see `postgresTarget`); any other is not shown
 * (`postgres://(address not shown)`: pg does not connect to the URL's own host); a URL of another scheme or without
 * either key is shown as `redactUrl` shows it. A port is shown only as 1 to 5 digits (any other is
 * left out: pg cannot connect to it, see `postgresPortText`).
 */
export function redactPostgresUrl(url: string): string {
  const shown = redactUrl(url);
  const u = postgresUrl(url);
  const target = postgresTarget(url);
  if (!u || !target) return shown;
  const inQuery = !!u.searchParams.getAll('host').at(-1);
  if (!inQuery && !postgresPortText(url)!.inQuery) return shown;
  // (Not the URL's own host: pg does not connect there.)
  if (inQuery && target.host === undefined) return `${u.protocol}//${ADDRESS_NOT_SHOWN}`;
  const host = target.host ?? '';
  const name = !inQuery ? (u.hostname === NO_HOST ? '' : u.hostname) : host.startsWith('/') ? encodeURIComponent(host) : isIP(host) === 6 ? `[${host}]` : host;
  return `${u.protocol}//${name}${/^\d{1,5}$/.test(target.port) ? `:${target.port}` : ''}${u.pathname}`;
}

/**
 * Where pg connects for a PostgreSQL URL whose address is sure (`isAddressSure`), as pg-connection-string reads it;
 * undefined for any other string. `host`: the query's last `host`, or when that is empty or absent the URL's own,
 * percent-decoded as pg decodes it (`%2Fvar%2Frun%2Fpostgresql`, a socket directory); '' for none (pg's default); an
 * IPv6 address without brackets (the URL's own `[::1]`, whose brackets pg strips); undefined when it is none of a
 * socket directory (an absolute path without `@`, `?`, `=`, `:`, `#`, space or control character), a host name or an
 * IP address (`admin:S3CRET@db2`, a newline in it, a bracketed `?host=[::1]`, which pg does not strip but looks up by
 * DNS, and fails): then it is not to be shown. `port`: the port text pg reads (`postgresPortText`), '' for none.
 */
export function postgresTarget(url: string): { host: string | undefined; port: string } | undefined {
  const u = postgresUrl(url);
  if (!u || !isAddressSure(url)) return undefined;
  const port = postgresPortText(url)!.port;
  const query = u.searchParams.getAll('host').at(-1) || '';
  if (query) return { host: postgresHost(query), port };
  if (u.hostname === NO_HOST || !u.hostname) return { host: '', port };
  // pg strips the brackets of the URL's own IPv6 host, then decodes it (only: a `?host=[::1]` it looks up by DNS, as
  // it is, and so an encoded `%5B%3A%3A1%5D`, decoded after the strip, which stays `[::1]`: not shown).
  let own: string;
  try {
    own = decodeURIComponent(u.hostname.replace(/^\[(.+)\]$/, '$1'));
  } catch {
    return { host: undefined, port };
  }
  return { host: postgresHost(own), port };
}

/**
 * The port pg reads from a PostgreSQL URL, as text: its query's last `port` (`inQuery`), or when that is empty or
 * absent the URL's own (`''`: none, pg's default); undefined for a string that is not a `postgres:`/`postgresql:` URL.
 * pg takes it with `parseInt`, and a port that is not a number from 1 to 65535 (`99999`, `Cd34`) leaves its connect
 * pending for ever.
 */
export function postgresPortText(url: string): { port: string; inQuery: boolean } | undefined {
  const u = postgresUrl(url);
  if (!u) return undefined;
  const query = u.searchParams.getAll('port').at(-1) || '';
  return { port: query || u.port, inQuery: query !== '' };
}

/** `url` parsed when it is a `postgres:` or `postgresql:` URL (with a stand-in host when it has none, as pg). */
function postgresUrl(url: string): URL | undefined {
  if (!/^postgres(?:ql)?:\/\//i.test(url)) return undefined;
  try {
    return hostless(url) ?? new URL(url);
  } catch {
    return undefined;
  }
}

/** A host name: labels of letters, digits, `-` and `_`, joined by dots (no `@`, `:`, space or control character). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.?$/;

/**
 * A host pg reads, as it may be shown: a socket directory (see `postgresTarget`), a host name, an IPv4 address or an
 * IPv6 address (without brackets, as pg gives it to the socket); else undefined: it may be a mistyped credential
 * (`admin:S3CRET@db2`) or forge a line of a log, or is no address pg reaches (a bracketed `[::1]`: pg looks it up by
 * DNS, `getaddrinfo ENOTFOUND [::1]`).
 */
function postgresHost(host: string): string | undefined {
  if (host.startsWith('/')) return PLAIN_PATH.test(host) && !/[\s\x00-\x1f\x7f]/.test(host) ? host : undefined;
  return isIP(host) !== 0 || HOST_NAME.test(host) ? host : undefined;
}

/**
 * `url` parsed (WHATWG URL, as node-redis and pg parse it) when its host and user info are surely where the parse puts
 * them, else undefined: when it does not parse, has no host, or has an `@` after its host - in the path, the query or
 * the fragment (a raw `@`: `%40` is none) - as the rest of user info holding a password with an unescaped `/`, `?` or
 * `#` would. Such a password ends the host early: `redis://default:4821/SECRET@cache:6379` parses as host `default`,
 * port 4821, without user info; `redis://user:AB@SECRET?client_name=EF@cache` as user info `user:AB`, host `SECRET`;
 * `postgres://u:p@ss?host=S3CRET&application_name=x@db/app` as host `ss`, and pg connects to the query's `S3CRET`. Text
 * cannot tell these from an `@` in a query value (`redis://cache/0?client_name=svc@prod`), which is so not sure
 * either: written `svc%40prod`, it is. What reads a host (or port) out of a store URL for a message uses this, and
 * shows `redactUrl(url)` when it is undefined.
 */
export function parseUrlWithClearUserInfo(url: string): URL | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  return u.host && !mayHoldUserInfo(u) ? u : undefined;
}

/**
 * Whether the address `redactUrl(url)` shows is the one the clients read: a host `parseUrlWithClearUserInfo` surely
 * reads, a hostless URL's path (`unix://:pw@/run/redis.sock`), or a plain socket path. When not, the host and
 * port a client parsed may be pieces of the user info, and so may be in its own errors (`getaddrinfo ENOTFOUND
 * <piece>`): such an error (and one for a string that is not a URL, a libpq `host=... password=...` string) is shown as
 * `clientErrorNotShown` (its kind only), and not kept as a cause.
 */
export function isAddressSure(url: string): boolean {
  if (!SCHEME.test(url)) return PLAIN_PATH.test(url);
  if (parseUrlWithClearUserInfo(url)) return true;
  const bare = hostless(url);
  return !!bare && !mayHoldUserInfo(bare);
}

/**
 * What a store shows, at its first connect, for its client's error `e` when `isAddressSure(url)` is false: its kind
 * only (see `hideClientError`; `kind` for one whose class or text tells it, a Redis reply's first word), and how to
 * give a URL that reads surely.
 */
export function clientErrorNotShown(e: unknown, kind?: string): string {
  return `${hideClientError(e, kind).message}: give a URL whose user info has '/', '?', '#' and '@' percent-encoded (%2F, %3F, %23, %40), and any '@' in its query as %40`;
}

/**
 * What a store shows for its client's error when `isAddressSure(url)` is false (see `hideClientError`), followed by
 * the error's kind in parentheses.
 */
export const CLIENT_ERROR_HIDDEN = "the client's error is not shown, as it may name a part of the password";

/** SQLSTATEs whose server message names the user or the database the client read from the URL. */
const SQLSTATE_KINDS: Readonly<Record<string, string>> = { '28P01': 'authentication failed', '28000': 'authorization failed', '3D000': 'no such database' };

/**
 * A store client's error `e` for a URL whose address is not sure (`isAddressSure` false): its text and its other
 * fields (`address`, `port`, a server's `detail`) may name the host, port, user or database the client parsed, pieces of the password in such a URL. So a new Error: `CLIENT_ERROR_HIDDEN (kind)`, the kind
 * being a socket error's code (`ECONNREFUSED`), a server's SQLSTATE (with what it means when it names the user or
 * database: `28P01 authentication failed`), the `kind` given (letters, digits, `_` and spaces: a Redis reply's first
 * word, `WRONGPASS`) or the error's class name (`SocketClosedUnexpectedlyError`), with only `code` and `severity`
 * kept, which tell the failure's class (unavailable, refused, cancelled). Not the cause of what is thrown. A non-Error
 * value is shown as an unknown kind; what this made is given back as it is.
 */
export function hideClientError(e: unknown, kind?: string): Error {
  if (isHiddenClientError(e)) return e as Error;
  const { code, severity, name } = (e ?? {}) as { code?: unknown; severity?: unknown; name?: unknown };
  const safeCode = typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
  const className = e instanceof Error ? errorClassName(e, name) : undefined;
  const safeKind = kind !== undefined && /^[A-Za-z0-9_ ]{1,60}$/.test(kind) ? kind : undefined;
  const shown = safeCode ? (SQLSTATE_KINDS[safeCode] ? `${safeCode} ${SQLSTATE_KINDS[safeCode]}` : safeCode) : (safeKind ?? className ?? 'unknown kind');
  const hidden = new Error(`${CLIENT_ERROR_HIDDEN} (${shown})`) as Error & { code?: string; severity?: string };
  if (safeCode) hidden.code = safeCode;
  if (typeof severity === 'string' && /^[A-Z]{1,10}$/.test(severity)) hidden.severity = severity;
  HIDDEN.add(hidden);
  return hidden;
}

/**
 * The class of `e` as a kind: its `name` unless that is plain `Error`, else its constructor's (node-redis's errors keep
 * the name `Error`: `ConnectionTimeoutError`, `SocketClosedUnexpectedlyError`) when it names an error class (ends in
 * `Error`, or `ErrorReply` as node-redis's `ErrorReply` and `MultiErrorReply`: a minified bundle's class is `e`, `_` or
 * `Xe`, which says nothing); undefined for a plain `Error`.
 */
function errorClassName(e: Error, name: unknown): string | undefined {
  const ok = (n: unknown): n is string => typeof n === 'string' && /^[A-Za-z]{1,60}$/.test(n) && n !== 'Error';
  if (ok(name)) return name;
  const ctor = (e as { constructor?: { name?: unknown } }).constructor?.name;
  return ok(ctor) && /^(?:[A-Z][A-Za-z]*)?Error(?:Reply)?$/.test(ctor) ? ctor : undefined;
}

/** What `hideClientError` made: given again (a handle's error shown at the first connect), it stays as it is. */
const HIDDEN = new WeakSet<Error>();

/** Whether `e` is what `hideClientError` made (a client's error shown by its kind only). */
export function isHiddenClientError(e: unknown): boolean {
  return e instanceof Error && HIDDEN.has(e);
}

/**
 * Whether what `u` parsed as its path, query or fragment may be the rest of user info (a password with an unescaped
 * `/`, `?` or `#`, up to an `@`): any raw `@` there.
 */
function mayHoldUserInfo(u: URL): boolean {
  return u.pathname.includes('@') || u.search.includes('@') || u.hash.includes('@');
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
