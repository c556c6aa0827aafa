import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliUsageError } from './cli-usage-error.js';

/** Error codes of a path that cannot be written (the flag's value is at fault, not the machine). */
const PATH_ERRORS = new Set(['EISDIR', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG']);

/**
 * Refuses, before any long work, an output path `file` (absolute) that cannot be written: an existing folder, a
 * path whose nearest existing parent is a file, or one whose nearest existing folder is not writable. A usage error naming `flag`. Missing folders are fine (created on write).
 */
export function checkOutPath(flag: string, file: string): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  };
  if (kind(file) === 'dir') throw new CliUsageError(`${flag}: cannot write ${file}: it is a folder (give a file name)`, flag);
  for (let p = dirname(file); ; p = dirname(p)) {
    const k = kind(p);
    if (k === 'file') throw new CliUsageError(`${flag}: cannot write ${file}: ${p} is not a folder`, flag);
    if (k === 'dir') {
      // The file is written beside its target and renamed: the nearest existing folder must take new files.
      try {
        accessSync(p, constants.W_OK);
      } catch {
        throw new CliUsageError(`${flag}: cannot write ${file}: folder ${p} is not writable`, flag);
      }
      return;
    }
    if (dirname(p) === p) return;
  }
}

/**
 * Writes `text` to `file` (absolute) whole or not at all: into a temporary file beside it, renamed over `file`, so a
 * failed or interrupted write never leaves a truncated file (nor replaces a good one). Creates missing folders. A path
 * that cannot be written is a usage error naming `flag`; other failures (a full disk) are rethrown.
 */
export async function writeOutFile(flag: string, file: string, text: string): Promise<void> {
  checkOutPath(flag, file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && PATH_ERRORS.has(code)) throw new CliUsageError(`${flag}: cannot write ${file} (${code}: ${(e as Error).message})`, flag);
    throw e;
  }
}
