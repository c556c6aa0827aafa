import type { Env } from './load-interpolate.js';

/**
 * A path read from an environment variable, with a leading `~` (alone, or before `/` or `\`) made the home
 * directory: `HOME`, else `USERPROFILE` (Windows), of the same environment. A shell does this to `VAR=~/x`,
 * but a .env file, docker's `environment:` / `env_file` and a systemd unit pass the `~` on as it is, and the
 * path would otherwise name a folder called `~` in the working directory. Any other path, `~user/...`, and a
 * `~` path in an environment without a home are returned as they are. Pure (no `node:os`): core stays edge-safe.
 */
export function expandHomePath(path: string, env: Env): string {
  if (path[0] !== '~' || (path.length > 1 && path[1] !== '/' && path[1] !== '\\')) return path;
  const home = env['HOME'] || env['USERPROFILE'];
  if (!home) return path;
  return path.length === 1 ? home.replace(/([^\\/:])[\\/]+$/, '$1') : home.replace(/[\\/]+$/, '') + path.slice(1);
}
