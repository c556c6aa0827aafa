import { parseUrlWithClearUserInfo, redactUrl } from '@llmrr/core';

/**
 * Where a shared-mode store URL points, for a start-up error: `host:port` (the scheme's default port when the URL has
 * none), a Unix socket's path, or PostgreSQL's socket directory (`?host=/dir`, a leading `/dir`, or a host `%2Fdir`, decoded as pg decodes it), as the client
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

/** The socket path, socket directory or `host:port` of a surely read `u`; '' when it has none (a stand-in host). */
function readAddress(u: URL, defaultPort: number): string {
  if (u.protocol === 'unix:' || u.protocol === 'socket:') return u.pathname;
  const socketDir = u.searchParams.get('host');
  if (socketDir?.startsWith('/')) return socketDir;
  if (!u.hostname || u.hostname === 'host.invalid') return '';
  // pg reads a host that starts with an encoded `/` (`postgresql://%2Fvar%2Frun%2Fpostgresql/db`) decoded: a socket
  // directory.
  if (/^%2f/i.test(u.hostname)) return decodedOrEmpty(u.hostname);
  return `${u.hostname}:${u.port || defaultPort}`;
}

/** `text` percent-decoded, or '' when it does not decode. */
function decodedOrEmpty(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}
