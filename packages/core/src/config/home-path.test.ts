/**
 * A path in an environment variable that starts with `~` (`LLMRR_PRICES_FILE=~/prices.json`, `LLM_ROUTER_CONFIG=~/llmrr.yaml`)
 * is under the home directory (`HOME`, else `USERPROFILE`, of the same environment), as a shell would have made it:
 * a .env file, docker's `environment:` / `env_file` or a systemd unit pass the `~` on as it is. Read from real files.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRICES_FILE_ENV, loadPriceTableFromEnv, priceFor } from '../pricing/index.js';
import { rejection } from '../test/async.test-helpers.js';
import { expandHomePath } from './home-path.js';
import { CONFIG_ENV, loadConfigDetailed } from './load.js';

let home: string;
let work: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'llmrr-home-'));
  work = await mkdtemp(join(tmpdir(), 'llmrr-work-'));
  await writeFile(join(home, 'prices.json'), JSON.stringify({ 'home-priced': { input: 2, output: 9 } }));
  await writeFile(join(home, 'llmrr.config.json'), JSON.stringify({ models: [{ name: 'from-home', engine: 'mock' }] }));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('expandHomePath', () => {
  it.each([
    ['~', '/home/u'],
    ['~/prices.json', '/home/u/prices.json'],
    ['~/a/b.json', '/home/u/a/b.json'],
  ])('%s is %s', (path, expected) => {
    expect(expandHomePath(path, { HOME: '/home/u' })).toBe(expected);
    expect(expandHomePath(path, { HOME: '/home/u/' })).toBe(expected);
  });

  it('USERPROFILE when there is no HOME (Windows), and a backslash after the ~', () => {
    expect(expandHomePath('~\\prices.json', { USERPROFILE: 'C:\\Users\\u' })).toBe('C:\\Users\\u\\prices.json');
    expect(expandHomePath('~/prices.json', { USERPROFILE: 'C:\\Users\\u' })).toBe('C:\\Users\\u/prices.json');
  });

  it('other paths, ~user/ paths and a ~ path without a home (an empty one too) are as they were', () => {
    for (const path of ['./prices.json', 'prices.json', '/etc/prices.json', 'a/~/b', '~user/prices.json', '~prices.json']) {
      expect(expandHomePath(path, { HOME: '/home/u' })).toBe(path);
    }
    expect(expandHomePath('~/prices.json', {})).toBe('~/prices.json');
    expect(expandHomePath('~/prices.json', { HOME: '' })).toBe('~/prices.json');
  });
});

describe('LLMRR_PRICES_FILE=~/...', () => {
  it('reads the file under HOME, whatever baseDir', async () => {
    const table = await loadPriceTableFromEnv({ [PRICES_FILE_ENV]: '~/prices.json', HOME: home }, { baseDir: work });
    expect(priceFor('home-priced', table)).toEqual({ input: 2, output: 9 });
  });

  it('a missing one is named as expanded', async () => {
    const e = await rejection(loadPriceTableFromEnv({ [PRICES_FILE_ENV]: '~/gone.json', HOME: home }, { baseDir: work }));
    expect(e.message).toBe(`Price file ${home}/gone.json not found`);
  });
});

describe('LLM_ROUTER_CONFIG=~/...', () => {
  it('loads the config under HOME, whatever cwd', async () => {
    const loaded = await loadConfigDetailed(undefined, { env: { [CONFIG_ENV.CONFIG]: '~/llmrr.config.json', HOME: home }, cwd: work });
    expect(loaded.file).toBe(join(home, 'llmrr.config.json'));
    expect(loaded.config.models.map((m) => m.name)).toEqual(['from-home']);
  });
});
