import { parseUrlWithClearUserInfo, redactUrl } from '@llmrr/core';

/**
 * Where a shared-mode store URL points, for a start-up error: `host:port` (the scheme's default port when the URL has
 * none), a Unix socket's path, or PostgreSQL's socket directory (`?host=/dir`, or a leading `/dir`), as the client
 * reads the URL (an `@` in the query, `?application_name=svc@prod`, is no user info). Never a user name or password; a
 * URL it cannot surely read (`parseUrlWithClearUserInfo`: a password with an unescaped `/`, `?` or `#` reads as host
 * and port) is shown as `redactUrl` shows it (`scheme://(address not shown)` when an `@` follows its first `?` or `#`).
 */
export function storeAddress(url: string, defaultPort: number): string {
  const raw = url.trim();
  // pg's socket form `/var/run/postgresql llmrr`: a socket directory, then the database.
  if (raw.startsWith('/')) return redactUrl(raw.split(/\s+/)[0]!);
  // An empty host (pg's `postgres://user@/db?host=/dir` and `postgres:///db?host=/dir`, Redis's `unix:///path`): a
  // stand-in one, as the check wants a host.
  const u = parseUrlWithClearUserInfo(raw.replace('@/', '@host.invalid/').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)\//, '$1host.invalid/'));
  if (!u) return redactUrl(raw);
  if (u.protocol === 'unix:' || u.protocol === 'socket:') return u.pathname;
  const socketDir = u.searchParams.get('host');
  if (socketDir?.startsWith('/')) return socketDir;
  if (!u.hostname || u.hostname === 'host.invalid') return redactUrl(raw);
  return `${u.hostname}:${u.port || defaultPort}`;
}
