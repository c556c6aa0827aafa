import { parseUrlWithClearUserInfo, redactUrl } from '@llmrr/core';

/**
 * Where a shared-mode store URL points, for a start-up error: `host:port` (the scheme's default port when the URL has
 * none; for PostgreSQL its `?host=` and `?port=` when set, which pg reads over the URL's own), a Unix socket's path, or
 * PostgreSQL's socket directory (`?host=/dir`, a leading `/dir`, or a host `%2Fdir`, decoded as pg decodes it), as the
 * client reads the URL. Never a user name, a password or a piece of one, never empty, never with an `@`: a URL it
 * cannot surely read (`parseUrlWithClearUserInfo`: an `@` in its path, query or fragment, as user info holding a
 * password with an unescaped `/`, `?` or `#` would have; `?application_name=svc@prod` too, `svc%40prod` is read), or
 * whose socket path would be empty or hold an `@`, is shown as `redactUrl` shows it (`scheme://(address not shown)`
 * when the host cannot be told).
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
 * reads the query's `host` and `port` over the URL's own, as libpq does (`postgres://u:pw@/db?host=/var/run/postgresql`,
 * `postgres://u:pw@db1/db?host=db2&port=6543`): the last value of each (pg-connection-string keeps the last), and an
 * empty one leaves the URL's own (`?host=` connects to the URL's host). node-redis reads neither. A query with an `@`
 * may be a password's rest (`postgres://u:p@ss?host=S3CRET&application_name=x@db/app`): such a URL is not surely read
 * (`parseUrlWithClearUserInfo`), so never reaches here.
 */
function readAddress(u: URL, defaultPort: number): string {
  if (u.protocol === 'unix:' || u.protocol === 'socket:') return u.pathname;
  const pg = u.protocol === 'postgres:' || u.protocol === 'postgresql:';
  const host = (pg ? lastValue(u, 'host') : undefined) || '';
  const port = (pg ? lastValue(u, 'port') : undefined) || u.port;
  if (host.startsWith('/')) return host;
  const at = (name: string) => `${name}:${port || defaultPort}`;
  if (host) return at(host.includes(':') ? `[${host}]` : host);
  if (!u.hostname || u.hostname === 'host.invalid') return '';
  // pg reads a host that starts with an encoded `/` (`postgresql://%2Fvar%2Frun%2Fpostgresql/db`) decoded: a socket
  // directory.
  if (/^%2f/i.test(u.hostname)) return decodedOrEmpty(u.hostname);
  return at(u.hostname);
}

/** The last value of the query key `key`, '' when it is there empty, undefined when it is not there. */
function lastValue(u: URL, key: string): string | undefined {
  return u.searchParams.getAll(key).at(-1);
}

/** `text` percent-decoded, or '' when it does not decode. */
function decodedOrEmpty(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}
