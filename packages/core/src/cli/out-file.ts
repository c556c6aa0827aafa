import { randomBytes } from 'node:crypto';
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { chmod, chown, lstat, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliUsageError } from './cli-usage-error.js';

/** Error codes of a path that cannot be written (the flag's value is at fault, not the machine). */
const PATH_ERRORS = new Set(['EISDIR', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG', 'ELOOP']);

/**
 * Refuses, before any long work, an output path `file` (absolute) that cannot be written: an existing folder, a
 * path whose nearest existing parent is a file, or one whose nearest existing folder is not writable. A usage error naming `flag`. Missing folders are fine (created on write).
 * An existing file that is not a regular one (a named pipe, `/dev/stdout`, `/dev/null`) must itself be writable (it is
 * written in place); a symbolic link to a file is judged by the folder of the file it links to (written there).
 */
export function checkOutPath(flag: string, file: string): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  };
  let existing: Stats | undefined;
  try {
    existing = statSync(file);
  } catch {
    existing = undefined;
  }
  if (existing?.isDirectory()) throw new CliUsageError(`${flag}: cannot write ${file}: it is a folder (give a file name)`, flag);
  if (existing && !existing.isFile()) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw new CliUsageError(`${flag}: cannot write ${file}: it is not writable`, flag);
    }
    return;
  }
  const real = existing ? realpathSync(file) : file;
  for (let p = dirname(real); ; p = dirname(p)) {
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
 * Writes `text` to `file` (absolute) whole or not at all: into a temporary file beside it (a random name, created
 * exclusively: two writes never share one), renamed over `file`, so a failed or interrupted write never leaves a
 * truncated file (nor replaces a good one). Creates missing folders. What the in-place write kept is kept: a symbolic
 * link at `file` stays a link (the file it links to is replaced, the temporary file written beside that one), an existing
 * file's permissions (and its owner, when run as root) pass to the new one, and a target that is not a regular file (a
 * named pipe, `/dev/stdout`, `/dev/null`) is written in place, never replaced. A path that cannot be written is a usage
 * error naming `flag`; other failures (a full disk) are rethrown.
 */
export async function writeOutFile(flag: string, file: string, text: string): Promise<void> {
  checkOutPath(flag, file);
  let tmp: string | undefined;
  try {
    const link = await lstat(file).catch(() => undefined);
    const existing = link?.isSymbolicLink() ? await stat(file).catch(() => undefined) : link;
    if ((existing && !existing.isFile()) || (link?.isSymbolicLink() && !existing)) {
      // A pipe or device is written as it is (a rename would put a file in its place); a dangling link creates its file.
      await writeFile(file, text);
      return;
    }
    const target = existing ? await realpath(file) : file;
    await mkdir(dirname(target), { recursive: true });
    tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    // Created with the old file's mode (never more open than it, not even for a moment), then set exactly (the umask
    // applied at creation); the owner too when root can (best effort: a share may refuse it).
    await writeFile(tmp, text, { flag: 'wx', mode: existing ? existing.mode & 0o777 : 0o666 });
    if (existing) {
      if (process.getuid?.() === 0) await chown(tmp, existing.uid, existing.gid).catch(() => undefined);
      await chmod(tmp, existing.mode & 0o7777);
    }
    await rename(tmp, target);
  } catch (e) {
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && PATH_ERRORS.has(code)) throw new CliUsageError(`${flag}: cannot write ${file} (${code}: ${(e as Error).message})`, flag);
    throw e;
  }
}
