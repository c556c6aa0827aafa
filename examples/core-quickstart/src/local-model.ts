import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This example's folder (src/..). */
const exampleDir = fileURLToPath(new URL('..', import.meta.url));

/** The shared folder: `$LLMRR_SHARED_DIR`, else `../../../shared` from this example (the repository's sibling). */
export function sharedDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env['LLMRR_SHARED_DIR'];
  return dir ? resolve(dir) : resolve(exampleDir, '../../../shared');
}

/** Path of stories260K.gguf when it exists, else undefined (the tour then runs on the mock engine only). */
export function findLocalModel(dir: string = sharedDir()): string | undefined {
  const file = resolve(dir, 'models/stories260K.gguf');
  return existsSync(file) ? file : undefined;
}
