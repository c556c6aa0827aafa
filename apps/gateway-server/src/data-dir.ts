import { LLMError } from '@llmrr/core';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Refuses an embedded data directory (`LLMRR_DATA_DIR`) that is a file, or whose path runs through one, naming
 * `LLMRR_DATA_DIR` and the file: SQLite's own error for a database under it ("unable to open database file") says
 * neither. The first part of the path that exists must be a directory; what is missing the stores create.
 */
export function checkDataDir(dir: string): void {
  const target = resolve(dir);
  for (let d = target; ; d = dirname(d)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(d).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Missing: the stores make it. ENOTDIR: a part above is a file, found further up. Anything else (EACCES): the
      // stores' own open says it.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(d) !== d) continue;
      return;
    }
    if (isDirectory) return;
    const where = d === target ? `"${target}"` : `"${target}": "${d}"`;
    throw new LLMError({ code: 'config_invalid', message: `LLMRR_DATA_DIR ${where} is a file, not a directory`, param: 'LLMRR_DATA_DIR' });
  }
}
