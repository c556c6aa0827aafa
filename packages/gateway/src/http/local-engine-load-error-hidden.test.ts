import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { GatewayLogEntry } from '../types.js';

// A gguf deployment whose file node-llama-cpp cannot load fails with `engine_unavailable` ('Could not load GGUF
// model <absolute path>: ...', param 'path', provider 'gguf'). Carrying a provider, it was sent to the client like
// an upstream error: any tenant learned the server's file system layout, and `param: "path"` named no request field.
// engine_unavailable is the gateway's own state: hidden like config_invalid (a missing file), logged on the server.
describe('a local model that fails to load, seen by a client', () => {
  let dir: string;
  let gw: SdkGateway;
  const logs: GatewayLogEntry[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmrr-hunt-secret-layout-'));
    await writeFile(join(dir, 'model.gguf'), 'not a gguf file at all');
    gw = await servedGateway({ models: [{ name: 'local', engine: 'gguf', path: join(dir, 'model.gguf'), capabilities: ['chat', 'streaming'] }], gateway: { log: (e) => logs.push(e) } });
  });
  afterAll(async () => {
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets a 500 without the server path of the model file (nor param "path"); the server log has it', async () => {
    const err = await gw
      .openai()
      .chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBeGreaterThanOrEqual(500);
    expect(apiErr.message).not.toContain(dir);
    expect(apiErr.param ?? null).not.toBe('path');
    expect(apiErr.message).toContain('see the server log');
    expect(JSON.stringify(logs)).toContain(join(dir, 'model.gguf'));
  }, 60_000);
});
