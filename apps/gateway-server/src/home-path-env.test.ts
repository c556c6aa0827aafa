/**
 * The server's path variables with a leading `~` (`LLMRR_PRICES_FILE=~/prices.json` in a .env file or docker's
 * `environment:`, which pass the `~` on as it is): `LLMRR_CONFIG`, `LLMRR_DATA_DIR`, `LLMRR_SHARED_DIR` and
 * `LLMRR_PRICES_FILE` are under the home directory (`HOME`), as a shell would have made them, not in a folder named
 * `~` under the directory `pnpm start` was run in. A real server is started with its price file under HOME.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { disableMissingLocalModels, loadServerConfig } from './load-config.js';
import { readSettings } from './settings.js';
import { startServer, type RunningServer } from './start-server.js';

let home: string;
let cwd: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'llmrr-home-'));
  cwd = mkdtempSync(join(tmpdir(), 'llmrr-cwd-'));
  writeFileSync(join(home, 'prices.json'), JSON.stringify({ 'home-finetune': { input: 4, output: 16 } }));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

describe('readSettings', () => {
  it('LLMRR_CONFIG, LLMRR_DATA_DIR and LLMRR_SHARED_DIR starting with ~ are under HOME', () => {
    const s = readSettings({ HOME: home, LLMRR_CONFIG: '~/llmrr.config.json', LLMRR_DATA_DIR: '~/data', LLMRR_SHARED_DIR: '~' }, cwd);
    expect(s.configPath).toBe(join(home, 'llmrr.config.json'));
    expect(s.dataDir).toBe(join(home, 'data'));
    expect(s.sharedDir).toBe(home);
  });

  it('relative paths still resolve against the directory pnpm start was run in', () => {
    const s = readSettings({ HOME: home, LLMRR_CONFIG: 'llmrr.config.json', LLMRR_DATA_DIR: './data' }, cwd);
    expect(s.configPath).toBe(join(cwd, 'llmrr.config.json'));
    expect(s.dataDir).toBe(join(cwd, 'data'));
  });
});

describe('LLMRR_PRICES_FILE=~/prices.json', () => {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    vi.stubEnv('HOME', home);
    vi.stubEnv('LLMRR_PRICES_FILE', '~/prices.json');
    server = await startServer(readSettings({ PORT: '0', HOME: home, LLMRR_DATA_DIR: '~/data' }, cwd), () => {});
  });
  afterAll(async () => {
    await server?.close(1000);
    vi.unstubAllEnvs();
  });

  it('the server starts, prices models by the file under HOME, and keeps its data there', async () => {
    server!.router.load({ name: 'tuned', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'home-finetune' });
    expect(server!.router.models().find((m) => m.name === 'tuned')?.price).toEqual({ input: 4, output: 16 });
    const res = await fetch(`${server!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status, (await res.text()).slice(0, 300)).toBe(200);
    expect(existsSync(join(home, 'data'))).toBe(true);
    expect(existsSync(join(cwd, '~'))).toBe(false);
  });
});

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const sharedModel = [process.env.LLMRR_SHARED_DIR, resolve(repoRoot, '../shared')]
  .filter((d): d is string => !!d)
  .map((d) => join(d, 'models', 'stories260K.gguf'))
  .find((f) => existsSync(f));

describe.skipIf(!sharedModel)('LLMRR_SHARED_DIR=~/shared with the repository config (pnpm start, pnpm llmrr)', () => {
  // llmrr.config.yaml reads it by interpolation (`${LLMRR_SHARED_DIR:-../shared}/models/stories260K.gguf`), not
  // through readSettings: the `~` was kept, the file looked for under `<repo>/~/shared`, the model left out.
  it('serves stories260K from the home directory, as an absolute LLMRR_SHARED_DIR does', async () => {
    mkdirSync(join(home, 'shared', 'models'), { recursive: true });
    symlinkSync(sharedModel!, join(home, 'shared', 'models', 'stories260K.gguf'));
    for (const sharedDir of [join(home, 'shared'), '~/shared']) {
      const env = { HOME: home, LLMRR_SHARED_DIR: sharedDir };
      const settings = readSettings(env, repoRoot);
      const loaded = await loadServerConfig(settings, env);
      expect(loaded.source, sharedDir).toBe(join(repoRoot, 'llmrr.config.yaml'));
      const { config, missing } = disableMissingLocalModels(loaded.config, settings.cwd);
      expect(missing, sharedDir).toEqual([]);
      const stories = config.models.find((m) => m.name === 'stories260K');
      expect({ enabled: stories?.enabled, path: stories?.path }, sharedDir).toEqual({ enabled: true, path: join(home, 'shared', 'models', 'stories260K.gguf') });
    }
  });
});
