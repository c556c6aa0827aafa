import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileKind } from '../codemod/transform-file.js';

const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage', 'test-results', '.git', '.nx', '.next', '.turbo']);

export interface CollectedFile {
  path: string;
  /** Named on the command line (not found by walking a folder). */
  explicit: boolean;
}

/** Files under the given paths that the codemod handles; unreadable paths are returned as errors. */
export async function collectFiles(paths: readonly string[], cwd: string): Promise<{ files: CollectedFile[]; errors: string[] }> {
  const files: CollectedFile[] = [];
  const errors: string[] = [];
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
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walkDir(p, depth + 1);
      } else if (e.isFile() && handled(e.name)) {
        await add(p, false);
      } else if (e.isSymbolicLink() && handled(e.name)) {
        // A symlinked file (a deploy layout's config/llmrr.config.json -> ../shared/router.json) is followed and
        // written through; a symlinked folder is not walked (loops, trees elsewhere), a dangling link is skipped.
        if ((await stat(p).catch(() => undefined))?.isFile()) await add(p, false);
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
  return { files, errors };
}
