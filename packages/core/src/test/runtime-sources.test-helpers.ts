/**
 * The repository's runtime sources, for the tests that check them as text (test-only: `*.test-helpers.ts` is left
 * out of the build).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder (the one holding `packages/` and `apps/`). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The runtime sources below `dir`: its `.ts` files (and `.tsx` with `tsx: true`), without tests (`*.test.ts`,
 * `*.test-d.ts`, `*.test-helpers.ts`), `__fixtures__` and `node_modules`.
 */
export function runtimeSources(dir: string, options: { tsx?: boolean } = {}, out: string[] = []): string[] {
  const source = options.tsx ? /\.tsx?$/ : /\.ts$/;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '__fixtures__') runtimeSources(path, options, out);
    } else if (source.test(entry.name) && !/\.test(-d)?\.tsx?$|\.test-helpers\.ts$/.test(entry.name)) out.push(path);
  }
  return out;
}
