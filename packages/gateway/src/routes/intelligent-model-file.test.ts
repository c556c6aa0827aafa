import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toLLMError } from '@llmrr/core';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { GatewayLogEntry } from '../types.js';

// `routing.options.intelligent.model` is the operator's: a path that does not exist, a file that is not a router model,
// or a model trained with prompt embeddings the router cannot compute (a config file cannot give an `embed` function)
// fails every call that routes with it as a logged 500 `config_invalid` (the router's `ready()` refuses the config
// before: the server does not start), not as the client's 400 naming its `model` field, and the client never sees the
// server's file path (the server log has it). `routing.options.adaptive.model` (adaptive's cold-start prior) alike.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-model-'));
  writeFileSync(join(dir, 'broken.json'), '{ this is not json');
  writeFileSync(
    join(dir, 'embeddings.json'),
    JSON.stringify({
      format: 'llmrr-router-model',
      version: 1,
      createdAt: '2026-11-28T00:00:00.000Z',
      models: ['a', 'b'],
      features: { analysis: { mean: [], std: [] }, hashDim: 0, embedding: { dim: 4, model: 'toy' } },
      predictor: { kind: 'prior', mean: [0.4, 0.9] },
      calibration: [],
      training: { data: 'toy', examples: 0, tasks: [], validation: [], chosen: 'prior' },
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function callWith(modelFile: string, strategy: string): Promise<{ error: APIError; logged: GatewayLogEntry[]; ready: unknown }> {
  const logged: GatewayLogEntry[] = [];
  let gw: SdkGateway | undefined;
  try {
    gw = await servedGateway({
      models: [mockModel('a'), mockModel('b')],
      routing: { strategy, options: { [strategy]: { model: modelFile } } },
      gateway: { log: (entry) => logged.push(entry) },
    });
    const ready = await gw.harness.router.ready().then(() => undefined, (e: unknown) => e);
    try {
      await gw.openai().chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello' }] });
    } catch (e) {
      if (e instanceof APIError) return { error: e, logged, ready };
      throw e;
    }
    throw new Error('the call succeeded');
  } finally {
    await gw?.close();
  }
}

describe.each(['intelligent', 'adaptive'])('%s router model file missing or unusable (the operator\'s config)', (strategy) => {
  const field = `routing.options.${strategy}.model`;
  it.each([
    ['missing', () => join(dir, 'missing', 'router.json'), 'Router model file not found'],
    ['not JSON', () => join(dir, 'broken.json'), 'is not valid JSON'],
    ['trained with embeddings the router cannot compute', () => join(dir, 'embeddings.json'), '"toy" prompt embeddings (4-d)'],
  ])('%s: the router refuses it in ready(); a call is a 500 config_invalid without the path, which the server log has', async (_label, file, why) => {
    const { error, logged, ready } = await callWith(file(), strategy);
    expect(toLLMError(ready)).toMatchObject({ code: 'config_invalid', param: field, message: expect.stringContaining(why) });
    const seen = { status: error.status, code: error.code, param: error.param };
    expect(seen).toEqual({ status: 500, code: 'config_invalid', param: null });
    expect(error.message).not.toContain(dir);
    const entry = logged.find((l) => l.level === 'error' && l.requestId === error.requestID);
    expect(entry, JSON.stringify(logged)).toBeDefined();
    expect(toLLMError(entry!.error).message).toContain(field);
    expect(toLLMError(entry!.error).message).toContain(why);
    if (!file().endsWith('embeddings.json')) expect(toLLMError(entry!.error).message).toContain(file());
  });
});
