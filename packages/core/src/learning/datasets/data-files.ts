import type { Dirent } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { datasetError } from './dataset-error.js';

/** A data file's extension, lower case. */
export type DataExtension = '.csv' | '.json' | '.jsonl';

/** `.csv`, `.json` or `.jsonl` for a data file name, its extension in any case (`B.CSV` is a CSV file); else undefined. */
export function dataExtension(name: string): DataExtension | undefined {
  const m = /\.(csv|jsonl|json)$/i.exec(name);
  return m ? (`.${m[1]!.toLowerCase()}` as DataExtension) : undefined;
}

/** `.csv`, `.csv and .jsonl`, `.csv, .json and .jsonl`. */
function extensionList(extensions: readonly DataExtension[]): string {
  return extensions.length < 2 ? extensions.join('') : `${extensions.slice(0, -1).join(', ')} and ${extensions[extensions.length - 1]!}`;
}

/**
 * Why the path `file` (or the folder entry `entry` of it) cannot be read as data: a folder, a link to nothing, a named
 * pipe, a device or a socket (reading a pipe would wait for a writer for ever); undefined for a regular file or a link
 * to one. Other failures (no such file, no permission) are thrown, for the caller to name.
 */
async function fileProblem(file: string, entry?: Dirent): Promise<string | undefined> {
  let kind: { isFile(): boolean; isDirectory(): boolean } | undefined = entry?.isSymbolicLink() === false ? entry : undefined;
  if (!kind) {
    try {
      kind = await stat(file);
    } catch (e) {
      const to = await readlink(file).catch(() => undefined);
      if (to === undefined) throw e;
      return `is a symbolic link to ${JSON.stringify(to)} that leads to no readable file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
  }
  if (kind.isFile()) return undefined;
  return kind.isDirectory() ? 'is a folder, not a file' : 'is not a regular file (a named pipe, a device or a socket)';
}

/**
 * The names of the entries of folder `dir` with one of `extensions` (matched in any case), sorted, each checked to be a
 * readable file before any is read: an entry that is not (a sub-folder named `old.csv`, a dangling link, a named pipe)
 * is refused naming it, never skipped nor waited on, and so are two entries whose names differ only in case
 * (`toy_test.csv` and `TOY_TEST.CSV`: the same file twice on a case-insensitive copy, its prompts read twice here).
 * Every loader reading a folder lists it through this.
 */
export async function listDataFiles(dir: string, extensions: readonly DataExtension[]): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => {
    const ext = dataExtension(e.name);
    return ext !== undefined && extensions.includes(ext);
  });
  const byLower = new Map<string, string>();
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const other = byLower.get(e.name.toLowerCase());
    if (other !== undefined) {
      throw datasetError(dir, `holds both ${JSON.stringify(other)} and ${JSON.stringify(e.name)}: names that differ only in case would be read as two files (the same data twice); keep one of them`, 'data');
    }
    byLower.set(e.name.toLowerCase(), e.name);
  }
  for (const e of entries) {
    const problem = await fileProblem(join(dir, e.name), e);
    if (problem) throw datasetError(dir, `${problem}: every ${extensionList(extensions)} entry of a data folder is read as data (rename or move it)`, e.name);
  }
  return entries.map((e) => e.name).sort();
}

/** `file` when it is a readable file (links followed), checked before it is read; else an error naming it (`fileProblem`). */
export async function checkDataFile(file: string): Promise<string> {
  const problem = await fileProblem(file);
  if (problem) throw datasetError(dirname(file), `${problem}: give a file`, basename(file));
  return file;
}
