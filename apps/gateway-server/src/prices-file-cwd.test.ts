/**
 * `LLMRR_PRICES_FILE` under the gateway server: a relative path (docs/core/config.md's example is `./prices.json`)
 * resolves against the directory the user ran `pnpm start` in (`INIT_CWD`, `settings.cwd`), like `LLMRR_CONFIG`,
 * `LLMRR_DATA_DIR` and the config's paths, not against `process.cwd()` (apps/gateway-server under `pnpm --filter`).
 * The server waits for the file at start: a missing one fails the start naming the file, instead of a server that
 * starts and answers every model call with a 500 `config_invalid`.
 *
 * The tests start the server as `pnpm start` does: settings.cwd is the user's folder (holding prices.json), and the
 * process's working directory is another one (vitest runs in apps/gateway-server, as `pnpm start` does).
 */import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSettings } from './settings.js';
import { startServer, type RunningServer } from './start-server.js';

describe('LLMRR_PRICES_FILE relative to the directory pnpm start was run in', () => {
  let dir: string;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-prices-cwd-'));
    writeFileSync(join(dir, 'prices.json'), JSON.stringify({ 'my-finetune': { input: 3, output: 12 } }));
    expect(process.cwd()).not.toBe(dir);
    vi.stubEnv('LLMRR_PRICES_FILE', './prices.json');
    server = await startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data') }, dir), () => {});
  });
  afterAll(async () => {
    await server?.close(1000);
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a chat call is answered (the price file next to the user is found)', async () => {
    const res = await fetch(`${server!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] }),
    });
    const text = await res.text();
    expect(res.status, text.slice(0, 300)).toBe(200);
  });

  it('the models are priced by that file', () => {
    expect(server!.router.models().length).toBeGreaterThan(0);
    server!.router.load({ name: 'tuned', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'my-finetune' });
    expect(server!.router.models().find((m) => m.name === 'tuned')?.price).toEqual({ input: 3, output: 12 });
  });

  it('a missing price file fails the start, naming the file as resolved', async () => {
    vi.stubEnv('LLMRR_PRICES_FILE', './no-such-prices.json');
    try {
      await expect(startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data-missing') }, dir), () => {})).rejects.toMatchObject({
        code: 'config_invalid',
        message: `Price file ${dir}/no-such-prices.json not found`,
      });
    } finally {
      vi.stubEnv('LLMRR_PRICES_FILE', './prices.json');
    }
  });
});
