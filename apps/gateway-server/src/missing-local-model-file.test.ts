import { loadConfigDetailed } from '@llmrr/core';
import type { GatewayLogEntry } from '@llmrr/gateway';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { disableMissingLocalModels } from './load-config.js';
import { readSettings } from './settings.js';
import { startServer, type RunningServer } from './start-server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');

// `pnpm start` from the repository root serves llmrr.config.yaml, whose stories260K deployment is
// `${LLMRR_SHARED_DIR:-../shared}/models/stories260K.gguf`. Without that file (a fresh clone, or LLMRR_SHARED_DIR
// pointing elsewhere) the server started silently, `/v1/models` listed stories260K and every call to it was a 500
// `config_invalid` (the reason only in the server log, per request). Now a local model whose file is missing is
// left out at startup (disabled), with a warning naming the file, as the embedded default leaves it out.
describe('pnpm start: a local model whose file is missing', () => {
  let server: RunningServer | undefined;
  afterAll(async () => {
    await server?.close(0);
    vi.unstubAllEnvs();
  });

  it('warns at startup naming the file, and leaves the model out of /v1/models and routing', async () => {
    const shared = '/nonexistent-llmrr-shared';
    vi.stubEnv('LLMRR_SHARED_DIR', shared); // the config's ${LLMRR_SHARED_DIR} interpolation reads process.env
    const logs: GatewayLogEntry[] = [];
    const settings = readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_SHARED_DIR: shared }, repoRoot);
    server = await startServer(settings, (e) => logs.push(e));
    expect(server.configSource).toContain('llmrr.config.yaml');
    // Logged before any request: a startup warning.
    const warning = logs.find((e) => e.message.includes(join(shared, 'models', 'stories260K.gguf')));
    expect(warning).toMatchObject({ level: 'warn' });
    expect(warning!.message).toContain('"stories260K"');
    const listed = ((await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(listed).not.toContain('stories260K');
    expect(listed).toEqual(expect.arrayContaining(['mock-smart', 'mock-fast']));
    const call = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }] }),
    });
    expect(call.status).toBe(404);
    expect(((await call.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  }, 60_000);
});

describe('disableMissingLocalModels', () => {
  it('disables gguf/onnx models whose file is missing or a directory, shared and tenant ones (against modelsDir), keeps the rest as it is', async () => {
    const { config } = await loadConfigDetailed(
      {
        version: 3,
        modelsDir: '/nonexistent-models',
        models: [
          { name: 'mock', engine: 'mock' },
          { name: 'gone', engine: 'gguf', path: 'gone.gguf' },
          { name: 'here', engine: 'gguf', path: fileURLToPath(import.meta.url) },
          { name: 'off', engine: 'onnx', path: 'off.onnx', enabled: false },
          // A directory exists but is no model file: loading it failed on every call (500) as a missing file did.
          { name: 'dir', engine: 'gguf', path: dirname(fileURLToPath(import.meta.url)) },
        ],
        tenants: [{ id: 'acme', models: [{ name: 'own', engine: 'onnx', path: 'own.onnx' }] }],
      },
      { env: {} },
    );
    const { config: out, missing } = disableMissingLocalModels(config, '/tmp');
    expect(missing).toEqual([
      { model: 'gone', path: '/nonexistent-models/gone.gguf' },
      { model: 'dir', path: dirname(fileURLToPath(import.meta.url)) },
      { model: 'own', tenant: 'acme', path: '/nonexistent-models/own.onnx' },
    ]);
    expect(out.models.map((m) => [m.name, m.enabled])).toEqual([
      ['mock', true],
      ['gone', false],
      ['here', true],
      ['off', false],
      ['dir', false],
    ]);
    expect(out.version === 3 && out.tenants[0]!.models[0]!.enabled).toBe(false);
    expect(config.models[1]!.enabled).toBe(true); // the loaded config is not changed
    expect(disableMissingLocalModels(out, '/tmp').missing).toEqual([]);
  });
});
