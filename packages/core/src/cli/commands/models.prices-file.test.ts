/**
 * `LLMRR_PRICES_FILE` under the CLI: `llmrr models` (like `route` and `chat`) waits for the price file
 * (`router.ready()`), so it lists the file's prices, not the shipped table's, and a missing file is an error
 * naming it (exit 2), never a silent fallback to the shipped prices (docs/core/router.md). A relative path
 * resolves against the CLI's working directory (INIT_CWD under `pnpm llmrr`), like `-c` and the config's paths.
 */import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';
import type { ModelListing } from './models.js';

const CONFIG = `models:
  - name: gpt
    engine: openai-compatible
    baseURL: http://127.0.0.1:9/v1
    model: gpt-4o
`;

let t: TempDir;
let pricesFile: string;
beforeAll(() => {
  t = tempDir(CONFIG);
  pricesFile = t.write('prices.json', JSON.stringify({ 'gpt-4o': { input: 1, output: 2 } }));
});
afterAll(() => t.remove());

describe('llmrr models with LLMRR_PRICES_FILE', () => {
  it('lists the price from the file (as route --explain does), not the shipped table', async () => {
    const env = { LLMRR_PRICES_FILE: pricesFile };
    const route = await runCli(['route', '--json', 'hi'], { cwd: t.dir, env });
    expect(route.code).toBe(0);
    expect(JSON.stringify(JSON.parse(route.stdout))).toContain('"input":1,"output":2');

    const r = await runCli(['models', '--json'], { cwd: t.dir, env });
    expect(r.code).toBe(0);
    const [gpt] = JSON.parse(r.stdout) as ModelListing[];
    expect({ price: gpt!.price, priceFromTable: gpt!.priceFromTable }).toMatchObject({ price: { input: 1, output: 2 } });
  });

  it('a relative LLMRR_PRICES_FILE resolves against the CLI working directory (INIT_CWD), like -c and config paths', async () => {
    // cli.md: "Under `pnpm llmrr` the working directory is the one you typed the command in (INIT_CWD)", which is
    // not process.cwd() (the repository root under `pnpm llmrr`).
    expect(process.cwd()).not.toBe(t.dir);
    const r = await runCli(['route', '--json', 'hi'], { cwd: t.dir, env: { LLMRR_PRICES_FILE: './prices.json' } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const models = await runCli(['models', '--json'], { cwd: t.dir, env: { LLMRR_PRICES_FILE: 'prices.json' } });
    expect(models.code).toBe(0);
    expect((JSON.parse(models.stdout) as ModelListing[])[0]).toMatchObject({ price: { input: 1, output: 2 } });
  });

  it('a missing price file is an error naming it (exit 2), not the shipped prices', async () => {
    const missing = `${t.dir}/no-such-prices.json`;
    const r = await runCli(['models'], { cwd: t.dir, env: { LLMRR_PRICES_FILE: missing } });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining('no-such-prices.json') });
  });
});
