import { isIP } from 'node:net';
import { parseUrlWithClearUserInfo, postgresTarget, redactPostgresUrl, redactUrl } from '@llmrr/core';

/**
 * Where a shared-mode store URL points, for a start-up error: `host:port` (the scheme's default port when the URL has
 * none; for PostgreSQL where pg connects, its `?host=` and `?port=` when set, as core's `postgresTarget` reads them), a
 * Unix socket's path, or PostgreSQL's socket directory (`?host=/dir`, a leading `/dir`, or a host `%2Fdir`, decoded as
 * pg decodes it), as the client reads the URL. Never a user name, a password or a piece of one, never empty, never
 * with an `@`: a URL it cannot surely read (`parseUrlWithClearUserInfo`: an `@` in its path, query or fragment, as
 * user info holding a password with an unescaped `/`, `?` or `#` would have; `?application_name=svc@prod` too,
 * `svc%40prod` is read), or whose socket path would be empty or hold an `@`, or a PostgreSQL host that is no socket
 * directory, host name or IP address, is shown as `redactUrl` shows it (`scheme://(address not shown)` when the host
 * cannot be told; for such a PostgreSQL `?host=` too, `redactPostgresUrl`, since pg does not connect to the URL's own).
 */
export function storeAddress(url: string, defaultPort: number): string {
  const raw = url.trim();
  // pg's socket form `/var/run/postgresql llmrr`: a socket directory, then the database.
  if (raw.startsWith('/')) return redactUrl(raw.split(/\s+/)[0]!);
  if (/^postgres(?:ql)?:\/\//i.test(raw)) return postgresAddress(raw, defaultPort) || redactPostgresUrl(raw);
  // An empty host (Redis's `unix:///path`): a stand-in one, as the check wants a host.
  const u = parseUrlWithClearUserInfo(raw.replace('@/', '@host.invalid/').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)\//, '$1host.invalid/'));
  const address = u ? readAddress(u, defaultPort) : '';
  return address && !address.includes('@') ? address : redactUrl(raw);
}

/**
 * Where pg connects (`postgresTarget`: the query's `host` and `port` over the URL's own, as libpq does): its socket
 * directory, or `host:port` (a port that is not 1 to 5 digits left out: pg refuses it); '' when it is not to be shown
 * or there is none.
 */
function postgresAddress(url: string, defaultPort: number): string {
  const target = postgresTarget(url);
  if (!target?.host) return '';
  if (target.host.startsWith('/')) return target.host;
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  const port = target.port || String(defaultPort);
  return /^\d{1,5}$/.test(port) ? `${host}:${port}` : host;
}

/** The socket path or `host:port` of a surely read Redis `u`; '' when it has none (a stand-in host). */
function readAddress(u: URL, defaultPort: number): string {
  if (u.protocol === 'unix:' || u.protocol === 'socket:') return u.pathname;
  if (!u.hostname || u.hostname === 'host.invalid') return '';
  return `${u.hostname}:${u.port || defaultPort}`;
}
