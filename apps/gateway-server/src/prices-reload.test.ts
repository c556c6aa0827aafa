/**
 * The real server process (src/main.ts, as `pnpm start` runs it) with `LLMRR_PRICES_FILE`: SIGHUP reads the price file
 * again, and the calls after it are priced by the new prices (`x-llmrr-cost-usd`); a file broken while being edited is
 * reported and the prices stay. Without a price file SIGHUP is left to its default (the process ends, as a terminal
 * hangup ends it). A SIGHUP during startup does not end it: the file is read again once it has started.
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const dirs: string[] = [];
const started: Gateway[] = [];
/** Processes a test holds mid-startup: killed if a failure left them there. */
const starting: ChildProcess[] = [];
let upstream: OpenAIWireServer | undefined;
afterAll(async () => {
  // (One that a signal ended has exited already.)
  for (const g of started) if (g.child.signalCode === null) await stopGateway(g);
  for (const c of starting) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await upstream?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The cost per token the gateway reports for one chat call of `tuned` (an OpenAI-wire upstream, priced by the file). */
async function cost(g: Gateway): Promise<number> {
  const res = await fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tuned', messages: [{ role: 'user', content: 'one two' }] }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const usage = ((await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
  // Per 1M tokens: the file's prices times the tokens, as the header says.
  return Number(res.headers.get('x-llmrr-cost-usd')) / (usage.prompt_tokens + usage.completion_tokens);
}

describe('SIGHUP reloads the price file', () => {
  it('later calls take the new prices; a broken file is reported and the old prices stay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-prices-reload-'));
    dirs.push(dir);
    const prices = join(dir, 'prices.json');
    writeFileSync(prices, JSON.stringify({ 'my-finetune': { input: 3, output: 3 } }));
    upstream = await startOpenAIWireServer();
    const model = { name: 'tuned', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'my-finetune', capabilities: ['chat'] };
    writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [model] }));
    const g = await startGateway('prices-reload', { PORT: '0', HOST: '127.0.0.1', INIT_CWD: dir, LLMRR_CONFIG: join(dir, 'llmrr.config.json'), LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_PRICES_FILE: prices });
    started.push(g);
    expect(await cost(g)).toBeCloseTo(3e-6, 12);

    writeFileSync(prices, JSON.stringify({ 'my-finetune': { input: 7, output: 7 } }));
    g.child.kill('SIGHUP');
    await vi.waitFor(() => expect(g.output()).toContain('SIGHUP: prices reloaded'), { timeout: 10_000 });
    expect(await cost(g)).toBeCloseTo(7e-6, 12);

    writeFileSync(prices, '{ "my-finetune": { "input": ');
    g.child.kill('SIGHUP');
    await vi.waitFor(() => expect(g.output()).toMatch(/SIGHUP: prices not reloaded \(the current ones stay\): .*prices\.json/), { timeout: 10_000 });
    expect(g.child.exitCode).toBeNull();
    expect(await cost(g)).toBeCloseTo(7e-6, 12);
  }, 120_000);

  // SIGHUP's default ends a process: the handler is installed before the server starts. The price file is a FIFO
  // here, so the server is held mid-startup (its router reads the file before it listens) until the test writes it.
  it('a SIGHUP during startup does not end the server: it is logged and the file read again once it has started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-prices-startup-'));
    dirs.push(dir);
    const fifo = join(dir, 'prices.fifo');
    execFileSync('mkfifo', [fifo]);
    upstream ??= await startOpenAIWireServer();
    const model = { name: 'tuned', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'k', model: 'my-finetune', capabilities: ['chat'] };
    writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [model] }));
    let child: ChildProcess | undefined;
    let output = () => '';
    const env = { PORT: '0', HOST: '127.0.0.1', INIT_CWD: dir, LLMRR_CONFIG: join(dir, 'llmrr.config.json'), LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_PRICES_FILE: fifo };
    const server = startGateway('prices-startup', env, 90_000, (c, o) => {
      child = c;
      output = o;
      starting.push(c);
    });
    server.catch(() => {});
    /** The FIFO open for writing once the server reads it (a non-blocking open fails until a reader has it open). */
    const whenRead = async (): Promise<FileHandle> => {
      let handle: FileHandle | undefined;
      await vi.waitFor(
        async () => {
          handle = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
        },
        { timeout: 60_000, interval: 20 },
      );
      return handle!;
    };
    // A reader has the FIFO open: the server is starting (reading its prices), not listening yet.
    const handle = await whenRead();
    child!.kill('SIGHUP');
    await vi.waitFor(() => expect(output()).toContain('SIGHUP during startup: the price file is read again once the server has started'), { timeout: 10_000 });
    await handle.writeFile(JSON.stringify({ 'my-finetune': { input: 3, output: 3 } }));
    await handle.close();
    const g = await server;
    started.push(g);
    // The reload asked during startup reads the file again, now that the server has started.
    const reload = await whenRead();
    await reload.writeFile(JSON.stringify({ 'my-finetune': { input: 7, output: 7 } }));
    await reload.close();
    await vi.waitFor(() => expect(g.output()).toContain('SIGHUP: prices reloaded'), { timeout: 10_000 });
    expect(g.child.exitCode).toBeNull();
    expect(await cost(g)).toBeCloseTo(7e-6, 12);
  }, 120_000);

  it('without a price file SIGHUP keeps its default: the server ends, as on a terminal hangup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-prices-reload-'));
    dirs.push(dir);
    const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', INIT_CWD: dir, LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_PRICES_FILE: '' };
    const g = await startGateway('no-prices-file', env);
    started.push(g);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => g.child.once('exit', (_code, signal) => resolve(signal)));
    g.child.kill('SIGHUP');
    expect(await exited).toBe('SIGHUP');
    expect(g.output()).not.toContain('SIGHUP: prices');
  }, 120_000);
});
