import { parseUrlWithClearUserInfo, redactUrl } from '@llmrr/core';

/**
 * Where a shared-mode store URL points, for a start-up error: `host:port` (the scheme's default port when the URL has
 * none; for PostgreSQL its `?host=` and `?port=` when set, which pg reads over the URL's own), a Unix socket's path,
 * or PostgreSQL's socket directory (`?host=/dir`, a leading `/dir`, or a host `%2Fdir`, decoded as pg decodes it), as the client
 * reads the URL (an `@` in a query value, `?application_name=svc@prod`, is no user info). Never a user name or
 * password, never empty, never with an `@`: a URL it cannot surely read (`parseUrlWithClearUserInfo`: user info that
 * may hold a password with an unescaped `/`, `?` or `#`), or whose socket path would be empty or hold an `@`, is shown
 * as `redactUrl` shows it (`scheme://(address not shown)` when the host cannot be told).
 */
export function storeAddress(url: string, defaultPort: number): string {
  const raw = url.trim();
  // pg's socket form `/var/run/postgresql llmrr`: a socket directory, then the database.
  if (raw.startsWith('/')) return redactUrl(raw.split(/\s+/)[0]!);
  // An empty host (pg's `postgres://user@/db?host=/dir` and `postgres:///db?host=/dir`, Redis's `unix:///path`): a
  // stand-in one, as the check wants a host.
  const u = parseUrlWithClearUserInfo(raw.replace('@/', '@host.invalid/').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)\//, '$1host.invalid/'));
  const address = u ? readAddress(u, defaultPort) : '';
  return address && !address.includes('@') ? address : redactUrl(raw);
}

/**
 * The socket path, socket directory or `host:port` of a surely read `u`; '' when it has none (a stand-in host). pg
 * reads the query's `host` and `port` (the last of each that is not empty) over the URL's own, as libpq does
 * (`postgres://u:pw@/db?host=/var/run/postgresql`, `postgres://u:pw@db1/db?host=db2&port=6543`), shown unless the
 * query may be a password's rest; node-redis reads neither.
 */
function readAddress(u: URL, defaultPort: number): string {
  if (u.protocol === 'unix:' || u.protocol === 'socket:') return u.pathname;
  // Not when no user info was read and a query value holds an `@` (`postgres://u:1?host=S3&application_name=x@db`):
  // that query may be the rest of a password with an unescaped `?` (see `parseUrlWithClearUserInfo`), and its
  // `host` a piece of it.
  const pg = (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && !(u.username === '' && u.password === '' && [...u.searchParams.values()].some((v) => v.includes('@')));
  const host = (pg ? lastSet(u, 'host') : undefined) ?? '';
  const port = (pg ? lastSet(u, 'port') : undefined) ?? u.port;
  if (host.startsWith('/')) return host;
  if (host) return `${host.includes(':') ? `[${host}]` : host}:${port || defaultPort}`;
  if (!u.hostname || u.hostname === 'host.invalid') return '';
  // pg reads a host that starts with an encoded `/` (`postgresql://%2Fvar%2Frun%2Fpostgresql/db`) decoded: a socket
  // directory.
  if (/^%2f/i.test(u.hostname)) return decodedOrEmpty(u.hostname);
  return `${u.hostname}:${port || defaultPort}`;
}

/** The last value of the query key `key` (pg-connection-string keeps the last), unless it is empty (pg ignores it). */
function lastSet(u: URL, key: string): string | undefined {
  return u.searchParams.getAll(key).at(-1) || undefined;
}

/** `text` percent-decoded, or '' when it does not decode. */
function decodedOrEmpty(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}
