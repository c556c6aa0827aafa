import { readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileKind } from '../codemod/transform-file.js';

const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage', 'test-results', '.git', '.nx', '.next', '.turbo']);

export interface CollectedFile {
  path: string;
  /** Named on the command line (not found by walking a folder). */
  explicit: boolean;
}

/** Whether a folder is left out of a walk: dependencies, build output, dot folders. */
const skippedDir = (name: string) => SKIP_DIRS.has(name) || name.startsWith('.');

/**
 * Files under the given paths that the codemod handles; unreadable paths are returned as errors, and `skippedLinks` are the
 * symlinked files a walk found but left alone (pointing outside the folders walked or into a folder a walk skips).
 */
export async function collectFiles(paths: readonly string[], cwd: string): Promise<{ files: CollectedFile[]; errors: string[]; skippedLinks: Array<{ link: string; target: string }> }> {
  const files: CollectedFile[] = [];
  const errors: string[] = [];
  const skippedLinks: Array<{ link: string; target: string }> = [];
  // The walked folders by their real paths: a symlinked file found by walking is followed only to a file inside one of
  // them, and not inside a folder the walk skips (a link into node_modules must not rewrite a dependency's file).
  const roots: string[] = [];
  for (const raw of paths) {
    const path = resolve(cwd, raw);
    if ((await stat(path).catch(() => undefined))?.isDirectory()) roots.push(await realpath(path).catch(() => path));
  }
  const walkedTo = (real: string) =>
    roots.some((root) => {
      const r = relative(root, real);
      return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r) && !r.split(sep).slice(0, -1).some(skippedDir);
    });
  // By the file itself: a symlink and the file it points to are one file, planned and written once.
  // Named on the command line as well as found by walking: treated as named.
  const seen = new Map<string, CollectedFile>();
  const add = async (path: string, explicit: boolean) => {
    const real = await realpath(path).catch(() => path);
    const known = seen.get(real);
    if (known) {
      known.explicit ||= explicit;
      return;
    }
    const file = { path, explicit };
    seen.set(real, file);
    files.push(file);
  };
  const handled = (name: string) => fileKind(name) !== undefined && !/^(package(-lock)?\.json|tsconfig(\..*)?\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml)$/.test(name);
  const walkDir = async (dir: string, depth: number): Promise<void> => {
    if (depth > 40) return;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!skippedDir(e.name)) await walkDir(p, depth + 1);
      } else if (e.isFile() && handled(e.name)) {
        await add(p, false);
      } else if (e.isSymbolicLink() && handled(e.name)) {
        // A symlinked file (a deploy layout's config/llmrr.config.json -> ../shared/router.json) is followed and
        // written through when the file is one a walk of the folders named could reach; one elsewhere is skipped,
        // named. A symlinked folder is not walked (loops, trees elsewhere), a dangling link is skipped.
        if (!(await stat(p).catch(() => undefined))?.isFile()) continue;
        const real = await realpath(p).catch(() => undefined);
        if (real === undefined) continue;
        if (walkedTo(real)) await add(p, false);
        else skippedLinks.push({ link: p, target: real });
      }
    }
  };
  for (const raw of paths) {
    const path = resolve(cwd, raw);
    try {
      const s = await stat(path);
      if (s.isDirectory()) await walkDir(path, 0);
      else if (s.isFile()) await add(path, true);
      else errors.push(`${raw}: not a file or folder`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push(`${raw}: cannot read (${code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : (e as Error).message})`);
    }
  }
  // A link left out of the walk whose file is named on the command line too is not left as is: that file is migrated.
  return { files, errors, skippedLinks: skippedLinks.filter((l) => !seen.has(l.target)) };
}
