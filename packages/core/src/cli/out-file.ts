import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, lstatSync, openSync, readlinkSync, realpathSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { chmod, chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CliWritable } from './cli-io.js';
import { CliUsageError } from './cli-usage-error.js';

/** Error codes of a path that cannot be written (the flag's value is at fault, not the machine). */
const PATH_ERRORS = new Set(['EISDIR', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ENAMETOOLONG', 'ELOOP', 'ENXIO']);

/** `/dev/stdout`, `/dev/fd/N`, `/proc/<pid>/fd/N`: the file behind an open descriptor (its number when it is this process's). */
const FD_PATH = /^\/(?:dev\/(?:(stdin|stdout|stderr)|fd\/(\d+))|proc\/(self|thread-self|\d+)\/(?:task\/\d+\/)?fd\/(\d+))$/;
const STD_FD: Record<string, number> = { stdin: 0, stdout: 1, stderr: 2 };

/** Where an output path leads: `target`, the file written (links followed, even dangling ones), and `existing`, its stats. */
interface OutTarget {
  target: string;
  existing: Stats | undefined;
  /** Reached through an open descriptor (`/dev/stdout`, `/proc/self/fd/1`): written in place, never replaced. */
  inPlace: boolean;
  /** That descriptor's number when it is one of this process's (written through it: its offset and mode are kept). */
  fd: number | undefined;
}

/** `stdout` for descriptor 1 (`stdin`, `stderr`), else `descriptor N`. */
function descriptorName(fd: number): string {
  return Object.keys(STD_FD).find((k) => STD_FD[k] === fd) ?? `descriptor ${fd}`;
}

/** A usage error for an output through a closed descriptor of this process: it says so (`stdout is closed`). */
function closedDescriptor(flag: string, file: string, fd: number, why: string): CliUsageError {
  return new CliUsageError(`${flag}: cannot write ${file}: ${descriptorName(fd)} is closed (${why})`, flag);
}

/** The stats of `p`, or undefined when it cannot be read (missing, or a path under a file: judged later). */
function statOrUndefined(how: (p: string) => Stats, p: string): Stats | undefined {
  try {
    return how(p);
  } catch {
    return undefined;
  }
}

/** Follows the symbolic links at `file` (absolute) by hand, so a dangling link leads to the file it would create. */
function resolveOut(file: string): OutTarget {
  let p = file;
  for (let hops = 0; ; hops++) {
    const m = FD_PATH.exec(p);
    if (m) {
      const own = m[1] !== undefined || m[2] !== undefined || m[3] === 'self' || m[3] === 'thread-self' || Number(m[3]) === process.pid;
      const fd = m[1] !== undefined ? STD_FD[m[1]] : Number(m[2] ?? m[4]);
      return { target: p, existing: statOrUndefined(statSync, p), inPlace: true, fd: own ? fd : undefined };
    }
    const link = statOrUndefined(lstatSync, p);
    if (!link?.isSymbolicLink()) return { target: p, existing: link, inPlace: false, fd: undefined };
    if (hops >= 40) throw Object.assign(new Error(`ELOOP: too many symbolic links, ${file}`), { code: 'ELOOP' });
    p = resolve(realpathSync(dirname(p)), readlinkSync(p));
  }
}

/**
 * Refuses, before any long work, an output path `file` (absolute) that cannot be written: an existing folder, a
 * path whose nearest existing parent is a file, or one whose nearest existing folder is not writable. A usage error naming `flag`. Missing folders are fine (created on write).
 * An existing file that is not a regular one (a named pipe, `/dev/stdout`, `/dev/null`) must itself be writable (it is
 * written in place), as must a file reached through an open descriptor (`/dev/stdout` redirected to a file); a socket
 * is refused (but this process's own stdout: written through the command's stdout); a symbolic link, even a dangling one, is judged by the folder of the file it links to (written there).
 */
export function checkOutPath(flag: string, file: string): void {
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  };
  let out: OutTarget;
  try {
    out = resolveOut(file);
  } catch (e) {
    throw new CliUsageError(`${flag}: cannot write ${file} (${(e as Error).message})`, flag);
  }
  const { existing } = out;
  if (out.inPlace && out.fd !== undefined) {
    // This process's own descriptor: closed (`/dev/fd/N` of no open file), or a named pipe nothing reads any more
    // (reopening it would wait for a reader for ever; an anonymous pipe's lost reader shows only on writing: EPIPE).
    if (!existing) throw closedDescriptor(flag, file, out.fd, 'no file is open on it');
    if (existing.isFIFO() && !fifoHasReader(out.target)) throw closedDescriptor(flag, file, out.fd, 'nothing reads its pipe any more');
  }
  if (existing?.isDirectory()) throw new CliUsageError(`${flag}: cannot write ${file}: it is a folder (give a file name)`, flag);
  // A socket is refused, but for this process's own stdout (a parent's `stdio: 'pipe'` is one): that is written through
  // the command's stdout, as `-` is (`writeOutFile`'s `stdout`).
  if (existing?.isSocket() && out.fd !== 1) throw new CliUsageError(`${flag}: cannot write ${file}: it is a socket (give a file name)`, flag);
  if (existing && (out.inPlace || !existing.isFile())) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw new CliUsageError(`${flag}: cannot write ${file}: it is not writable`, flag);
    }
    return;
  }
  for (let p = dirname(existing ? realpathSync(out.target) : out.target); ; p = dirname(p)) {
    const k = kind(p);
    if (k === 'file') throw new CliUsageError(`${flag}: cannot write ${file}: ${p} is not a folder`, flag);
    if (k === 'dir') {
      // A new file in /dev itself or under /proc or /sys (`--out /dev/report.json`, or its plot /dev/report.svg) is
      // never a wanted output: refused before any work. (An --out written in place, /dev/null or /dev/stdout, gets no
      // plot from router eval: `outIsFile`.)
      const system = systemFolder(p);
      if (system) throw new CliUsageError(`${flag}: cannot write ${file}: it would be a new file in ${system}: give a file in a folder of your own, or "-" for stdout (router eval also writes its plot beside a report file, as <out>.svg)`, flag);
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

/** `/dev, the system's folder of devices` (or of `/proc`, `/sys`) when the folder `dir` is one, links followed; else undefined. */
function systemFolder(dir: string): string | undefined {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return undefined;
  }
  if (real === '/dev') return "/dev, the system's folder of devices";
  const m = /^\/(proc|sys)(?:\/|$)/.exec(real);
  return m ? `${real}, under /${m[1]}, the system's folder of ${m[1] === 'proc' ? 'processes' : 'kernel objects'}` : undefined;
}

/** Whether a named pipe has a reader: a non-blocking open for writing fails with ENXIO when it has none (and never waits). */
function fifoHasReader(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') return false;
    return true; // another failure is judged on writing
  }
  closeSync(fd);
  return true;
}

/**
 * Whether `file` (absolute) is written as a file of its own - a new file, or an existing regular file (links followed) -
 * rather than in place: a device (`/dev/null`), a named pipe, or an open descriptor (`/dev/stdout`, `/dev/fd/N`), where
 * nothing can be written beside it (`router eval` leaves its plot out then). A path that cannot be resolved counts as
 * a file (`checkOutPath` judges it).
 */
export function outIsFile(file: string): boolean {
  try {
    const { existing, inPlace } = resolveOut(file);
    return !inPlace && (existing === undefined || existing.isFile());
  } catch {
    return true;
  }
}

/**
 * Whether `file` (absolute) leads to this process's own stdout (descriptor 1: `/dev/stdout`, `/dev/fd/1`,
 * `/proc/self/fd/1`, a link to one of them): an `--out` there is treated like `-` (the output alone on stdout, the
 * tables and summaries on stderr), though still written by `writeOutFile` (through the descriptor, its EPIPE a usage
 * error). Judged after `checkOutPath` (a closed stdout is refused there).
 */
export function outIsStdout(file: string): boolean {
  try {
    return resolveOut(file).fd === 1;
  } catch {
    return false;
  }
}

/**
 * Writes `text` to `file` (absolute) whole or not at all: into a temporary file beside it (a random name, created
 * exclusively: two writes never share one), renamed over `file`, so a failed or interrupted write never leaves a
 * truncated file (nor replaces a good one). Creates missing folders. What the in-place write kept is kept: a symbolic
 * link at `file` stays a link (the file it links to is replaced, the temporary file written beside that one), an existing
 * file's permissions (and its owner, when run as root) pass to the new one, and a target that is not a regular file (a
 * named pipe, `/dev/stdout`, `/dev/null`) is written in place, never replaced. A path that cannot be written is a usage
 * error naming `flag`; other failures (a full disk) are rethrown. A dangling link creates the file it links to (temporary
 * file and rename there, its folder made). A path reached through an open descriptor (`/dev/stdout`, `/dev/fd/N`,
 * `/proc/self/fd/N`) is written in place, through the descriptor when it is this process's (so `--out /dev/stdout
 * >> runs.log` appends to the log, never replaces it); this process's stdout when it is a socket (a Node parent's
 * `stdio: 'pipe'`) through `stdout`, the command's stdout, as `--out -` is.
 */
export async function writeOutFile(flag: string, file: string, text: string, stdout?: CliWritable): Promise<void> {
  checkOutPath(flag, file);
  let tmp: string | undefined;
  try {
    const { target, existing, inPlace, fd } = resolveOut(file);
    if (fd === 1 && existing?.isSocket()) {
      // This process's stdout a socket (a parent's `stdio: 'pipe'`), which no path reopens (ENXIO): through the
      // command's stdout, as `--out -` writes.
      if (!stdout) throw new CliUsageError(`${flag}: cannot write ${file}: it is a socket (give "-" for stdout, or a file name)`, flag);
      stdout.write(text);
      return;
    }
    if (inPlace && fd !== undefined && existing?.isFile()) {
      // This process's own descriptor onto a file (`> out.log`, `>> runs.log`): written at its offset, as stdout writes.
      writeFileSync(fd, text);
      return;
    }
    if (inPlace || (existing && !existing.isFile())) {
      // A pipe or device is written as it is (a rename would put a file in its place); another process's descriptor
      // onto a file is appended to (reopening it for writing would empty it).
      await writeFile(target, text, { flag: inPlace && existing?.isFile() ? 'a' : 'w' });
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    // Hidden, and the name shortened: a file name of up to 255 characters (NAME_MAX) still has a temporary name that fits.
    tmp = join(dirname(target), `.${basename(target).slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`);
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
    // A pipe whose reader is gone (`llmrr ... --out /dev/stdout | head -c 0` after head ended).
    if (code === 'EPIPE') {
      const { fd } = resolveOut(file);
      if (fd !== undefined) throw closedDescriptor(flag, file, fd, 'nothing reads its pipe any more: EPIPE');
      throw new CliUsageError(`${flag}: cannot write ${file}: nothing reads it any more (EPIPE)`, flag);
    }
    if (code !== undefined && PATH_ERRORS.has(code)) throw new CliUsageError(`${flag}: cannot write ${file} (${code}: ${(e as Error).message})`, flag);
    throw e;
  }
}
