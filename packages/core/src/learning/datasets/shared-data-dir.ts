import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandHomePath } from '../../config/home-path.js';

/** The repository root above `from` (the folder holding pnpm-workspace.yaml), if any. */
export function findRepoRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (let i = 0; i < 30; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

/**
 * The shared routing data folder: `$LLMRR_SHARED_DIR/data/routing` (a leading `~` is the home directory, as
 * the gateway server reads it), else `../shared/data/routing` next to the repository root. Undefined when
 * neither exists.
 */
export function sharedRoutingDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  const base = env['LLMRR_SHARED_DIR'] ?? (findRepoRoot(cwd) ? join(findRepoRoot(cwd)!, '..', 'shared') : undefined);
  if (!base) return undefined;
  const dir = join(resolve(cwd, expandHomePath(base, env)), 'data', 'routing');
  return existsSync(dir) ? dir : undefined;
}

/**
 * Resolves `--data`: a path (relative to `cwd`) when it exists, else a name inside the shared routing
 * data (`routerbench`, `routellm/gsm8k`, ...). Returns the path to try (the caller reports a missing one).
 */
export function resolveDataPath(data: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const direct = isAbsolute(data) ? data : resolve(cwd, data);
  if (existsSync(direct)) return direct;
  const shared = sharedRoutingDir(env, cwd);
  if (shared && existsSync(join(shared, data))) return join(shared, data);
  return direct;
}
