/**
 * A walked file found by a general key (`fallbackEnabled`, `enableFallback`, `maxModels`: an i18n or font-loading
 * settings file has them too) with no `models` list is another tool's: skipped, so it never blocks the migration of
 * the real config beside it (an error anywhere stops `--write` for every file). Keys only a router config has
 * (`modelRegistry`, `routingStrategy`, ...) make a walked file a config whose failed migration is an error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-walk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { cwd: dir, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}
const write = (name: string, text: string) => {
  mkdirSync(dirname(join(dir, name)), { recursive: true });
  writeFileSync(join(dir, name), text);
};

const V1_README = '{ "models": ["gpt-3.5", "mock://backup"], "strategy": "fallback", "fallbackModels": ["backup"], "cacheTTL": 60000, "apiPort": 3000 }\n';

describe('walked files found by a "router-only" key alone', () => {
  it('the README v1 config in a walked folder migrates', async () => {
    write('cfg/settings.json', V1_README);
    const r = await run('--write', '.');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'cfg/settings.json'), 'utf8')).version).toBe(2);
  });

  it('an i18n settings file with `fallbackEnabled` beside it does not block the walk (it is not a router config)', async () => {
    write('cfg/settings.json', V1_README);
    write('cfg/i18n.json', '{ "defaultLocale": "en", "locales": ["en", "de"], "fallbackEnabled": true }\n');
    write('cfg/fonts.json', '{ "theme": "dark", "enableFallback": true, "timeout": 3000 }\n');
    const r = await run('--write', '.');
    // Actual (ac120d4): exit 2, "cfg/i18n.json: error: cannot migrate: models: a v2 config needs a models list",
    // "no file was changed": settings.json stays v1.
    expect(r.stderr).not.toContain('i18n.json: error');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'cfg/settings.json'), 'utf8')).version).toBe(2);
  });
});
