import { readFileSync } from 'node:fs';

/** The @llmrr/core version, from the package.json two levels up (from `src/cli/` and `dist/cli/` alike). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
