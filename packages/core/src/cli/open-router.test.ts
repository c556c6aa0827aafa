/**
 * Where the CLI's router resolves relative model paths: against the CLI's working directory (not the
 * process's), for a relative `modelsDir` from an environment config, and under a file config's directory.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { registerEngine, unregisterEngine } from '../engines/registry.js';
import { runCli, tempDir, type TempDir } from './__fixtures__/cli-harness.js';
import { loadCliConfig } from './cli-config.js';
import { createCliRouter } from './open-router.js';

/** An engine kind that records the directory its model paths would resolve against. */
const PROBE = 'cli-path-probe';
const seen: string[] = [];

const ENV_CONFIG = JSON.stringify({ modelsDir: 'weights', models: [{ name: 'local', engine: PROBE, path: 'tiny.bin' }] });

let t: TempDir;
beforeAll(() => {
  registerEngine(PROBE, (_model, ctx) => {
    seen.push(ctx.baseDir);
    return new MockEngine();
  });
  t = tempDir();
});
afterEach(() => {
  seen.length = 0;
});
afterAll(() => {
  unregisterEngine(PROBE);
  t.remove();
});

describe('the CLI router and relative model paths', () => {
  it('a relative modelsDir from LLM_ROUTER_CONFIG_JSON resolves against the CLI working directory', async () => {
    expect(t.dir).not.toBe(process.cwd());
    const r = await runCli(['models', '--json'], { cwd: t.dir, env: { LLM_ROUTER_CONFIG_JSON: ENV_CONFIG } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(seen).toEqual([join(t.dir, 'weights')]);
  });

  it('createCliRouter (also behind `config validate`) does the same', async () => {
    const ctx = { cwd: t.dir, env: { LLM_ROUTER_CONFIG_JSON: ENV_CONFIG } };
    const router = createCliRouter(ctx, await loadCliConfig(ctx, undefined));
    try {
      router.models(); // engines are lazy: reading the capabilities creates it
      expect(seen).toEqual([join(t.dir, 'weights')]);
    } finally {
      await router.close();
    }
  });

  it('a file config keeps its modelsDir relative to the file, wherever the CLI runs', async () => {
    const file = t.write('probe.json', JSON.stringify({ modelsDir: 'models', models: [{ name: 'local', engine: PROBE, path: 'tiny.bin' }] }));
    const r = await runCli(['models', '-c', file], { cwd: process.cwd(), env: {} });
    expect(r.code).toBe(0);
    expect(seen).toEqual([join(t.dir, 'models')]);
  });
});

describe("the CLI router's warn option", () => {
  it('what the router reports outside a call goes to stderr, prefixed "llmrr <command>: warning:" as every CLI warning, not to console.warn', async () => {
    const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // strongShare without a router model cannot be applied: intelligent warns once (per log) and routes on.
      const config = JSON.stringify({
        models: [
          { name: 'weak', engine: 'mock', quality: 0.4, price: { input: 0.2, output: 0.2 } },
          { name: 'strong', engine: 'mock', quality: 0.9, price: { input: 10, output: 30 } },
        ],
        routing: { strategy: 'intelligent', options: { intelligent: { strongShare: 0.3 } } },
      });
      const r = await runCli(['route', 'hello'], { cwd: t.dir, env: { LLM_ROUTER_CONFIG_JSON: config } });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('llmrr route: warning: intelligent: strongShare 0.3 not applied (no router model to calibrate lambda on): lambda 0\n');
      expect(consoleWarn).not.toHaveBeenCalled();
    } finally {
      consoleWarn.mockRestore();
    }
  });
});
