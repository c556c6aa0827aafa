import { readdir, stat } from 'node:fs/promises';
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
  const seen = new Set<string>();
  const add = (path: string, explicit: boolean) => {
    if (seen.has(path)) return;
    seen.add(path);
    files.push({ path, explicit });
  };
  const walkDir = async (dir: string, depth: number): Promise<void> => {
    if (depth > 40) return;
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) await walkDir(p, depth + 1);
      } else if (e.isFile() && fileKind(e.name) !== undefined && !/^(package(-lock)?\.json|tsconfig(\..*)?\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml)$/.test(e.name)) {
        add(p, false);
      }
    }
  };
  for (const raw of paths) {
    const path = resolve(cwd, raw);
    try {
      const s = await stat(path);
      if (s.isDirectory()) await walkDir(path, 0);
      else if (s.isFile()) add(path, true);
      else errors.push(`${raw}: not a file or folder`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      errors.push(`${raw}: cannot read (${code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : (e as Error).message})`);
    }
  }
  return { files, errors };
}
