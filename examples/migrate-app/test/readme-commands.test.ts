/**
 * Every `pnpm <name>` command in the README's shell block starts this app's script of that name. pnpm runs its
 * own built-in commands before scripts of the same name (`pnpm upgrade` is an alias of `pnpm update`), so a
 * script named like a built-in would never run from the README's command: the migration script is `migrate`.
 *
 * The test runs each README command with this app's own scripts, in a scratch folder outside the workspace that
 * has no dependencies (so a built-in like `pnpm update` has nothing to fetch or change, and a script finds no
 * files to rewrite), and checks that the script started: pnpm echoes a script's command line before running it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const readme = readFileSync(join(appDir, 'README.md'), 'utf8');
/** The `pnpm <name>` lines of the README's ```sh blocks, as `<name>`. */
const readmeCommands = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) =>
  [...block[1]!.matchAll(/^pnpm ([\w:-]+)/gm)].map((m) => m[1]!),
);
let work: string;

function pnpm(...args: string[]): string {
  const r = spawnSync('pnpm', args, {
    cwd: work,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, npm_config_offline: 'true', CI: 'true', NODE_OPTIONS: '' },
  });
  return `${r.stdout}\n${r.stderr}`;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'llmrr-migrate-readme-'));
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'migrate-app-readme-check', private: true, scripts: pkg.scripts }, null, 2));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the README commands of examples/migrate-app', () => {
  it('the README shows the migrate, start and test commands', () => {
    expect(readmeCommands).toEqual(['migrate', 'start', 'test']);
  });

  it.each(readmeCommands)('`pnpm %s` starts the script of that name', (name) => {
    expect(pkg.scripts[name]).toBeDefined();
    expect(pnpm(name)).toContain(pkg.scripts[name]!);
  });

  it('the migrate script is the migration the README describes', () => {
    expect(pkg.scripts['migrate']).toContain('@llmrr/migrate/src/cli/main.ts --to v3 --tenant acme --write llm-router.config.json src');
  });
});
