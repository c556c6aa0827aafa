import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { MockEngine } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { countingAnthropic, countingOpenAI, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import type { GatewayLogEntry } from '../types.js';

// A gguf deployment whose file is no GGUF file fails with `config_invalid` ('Not a GGUF model file: <absolute path>',
// param 'path', provider 'gguf'); one that starts like a GGUF file but that node-llama-cpp cannot load with `internal`
// ('Could not load GGUF model <absolute path>: ...'). Carrying a provider, such an error was sent to the client like
// an upstream error: any tenant learned the server's file system layout, and `param: "path"` named no request field.
// Both are the gateway's own state: hidden, logged on the server. The first is permanent (`x-should-retry: false`);
// the second is tried again on the next call (memory may be free then), and the client may retry it.
describe('a local model that fails to load, seen by a client', () => {
  let dir: string;
  let gw: SdkGateway;
  const logs: GatewayLogEntry[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llmrr-hunt-secret-layout-'));
    await writeFile(join(dir, 'model.gguf'), 'not a gguf file at all');
    await writeFile(join(dir, 'damaged.gguf'), 'GGUF and then nothing a GGUF file has');
    gw = await servedGateway({
      models: [
        { name: 'local', engine: 'gguf', path: join(dir, 'model.gguf'), capabilities: ['chat', 'streaming'] },
        { name: 'damaged', engine: 'gguf', path: join(dir, 'damaged.gguf'), capabilities: ['chat', 'streaming'] },
      ],
      routing: { retries: { max: 0 } },
      gateway: { log: (e) => logs.push(e) },
    });
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
    expect(apiErr.headers?.get('x-should-retry')).toBe('false');
    expect(JSON.stringify(logs)).toContain(join(dir, 'model.gguf'));
  }, 60_000);

  it('a file that starts like a GGUF file but does not load: a hidden 500 the client may retry (no x-should-retry: false)', async () => {
    const openai = countingOpenAI(gw);
    const err = await openai.client.chat.completions.create({ model: 'damaged', messages: [{ role: 'user', content: 'hi' }] }, { maxRetries: 1 }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    expect(err?.status).toBe(500);
    expect(err?.message).toContain('see the server log');
    expect(err?.message).not.toContain(dir);
    expect(err?.headers?.get('x-should-retry')).toBeNull();
    expect(openai.sent()).toBe(2);
    expect(JSON.stringify(logs)).toContain('Could not load GGUF model');
  }, 60_000);
});

// A hidden internal error that a retry cannot cure (the gateway's configuration, a component that cannot be loaded)
// says `x-should-retry: false`: the official clients otherwise send the call twice more (maxRetries 2 by default),
// each failing the same way. A plain `internal` 500 (an unexpected failure) stays retryable.
describe('hidden internal errors and the official clients\' retries', () => {
  let gw: SdkGateway;
  const engines = {
    gone: new MockEngine({ failures: [{ code: 'engine_unavailable', message: 'node-llama-cpp has no usable binary here: /srv/lib/x.node', times: 1000 }] }),
    bad: new MockEngine({ failures: [{ code: 'config_invalid', message: 'header value of apiKey has a line break', times: 1000 }] }),
    flaky: new MockEngine({ failures: [{ code: 'internal', message: 'something unexpected', times: 1000 }] }),
  };
  beforeAll(async () => {
    gw = await servedGateway({
      models: Object.keys(engines).map((name) => ({ name, engine: 'mock', capabilities: ['chat', 'streaming'] })),
      routing: { retries: { max: 0 } },
      routerOptions: { env: {}, engines },
    });
  });
  afterAll(() => gw?.close());

  it.each(['gone', 'bad'] as const)('%s: chat completions, Responses and Messages are each sent once (x-should-retry: false)', async (model) => {
    const calls = engines[model].calls;
    const openai = countingOpenAI(gw);
    const chat = await openai.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(chat?.status).toBe(500);
    expect(chat?.headers?.get('x-should-retry')).toBe('false');
    expect(chat?.message).toContain('see the server log');
    const responses = await openai.client.responses.create({ model, input: 'hi' }).then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(responses?.status).toBe(500);
    expect(openai.sent()).toBe(2);
    const anthropic = countingAnthropic(gw);
    const messages = await anthropic.client.messages.create({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(() => undefined, (e: unknown) => e as InstanceType<typeof Anthropic.APIError>);
    expect(messages?.status).toBe(500);
    expect(messages?.headers?.get('x-should-retry')).toBe('false');
    expect(anthropic.sent()).toBe(1);
    expect(engines[model].calls - calls).toBe(3);
  }, 30_000);

  it('a plain internal 500 stays retryable: no x-should-retry, the client tries again', async () => {
    const calls = engines.flaky.calls;
    const openai = countingOpenAI(gw);
    const err = await openai.client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'hi' }] }, { maxRetries: 1 }).then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(err?.status).toBe(500);
    expect(err?.headers?.get('x-should-retry')).toBeNull();
    expect(openai.sent()).toBe(2);
    expect(engines.flaky.calls - calls).toBe(2);
  }, 30_000);
});

// A router (or an engine) closed as its instance shuts down answers 503 `shutting_down`, retryable: through a load
// balancer, the client's retry reaches another instance (the gateway's own shutdown cut says so too).
describe('a router closed during a graceful shutdown, seen by the official OpenAI client', () => {
  let gw: SdkGateway;
  const slow = new MockEngine({ delayMs: 2_000 });
  beforeAll(async () => {
    gw = await servedGateway({
      models: [{ name: 'slow', engine: 'mock', capabilities: ['chat', 'streaming'] }],
      routing: { retries: { max: 0 } },
      routerOptions: { env: {}, engines: { slow } },
    });
  });
  afterAll(() => gw?.close());

  it('a call in flight when the router closes gets a retryable 503 shutting_down, and the client retries it', async () => {
    const openai = countingOpenAI(gw);
    const calls = slow.calls;
    const pending = openai.client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }, { maxRetries: 1 }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    await vi.waitFor(() => expect(slow.calls - calls).toBe(1), { timeout: 10_000 });
    const closing = gw.harness.router.close();
    const err = await pending;
    await closing;
    // The retry reached the closed router of this one instance (no other here): 503 again, without a new engine call.
    expect(err?.status).toBe(503);
    expect(err?.code).toBe('shutting_down');
    expect(err?.headers?.get('x-should-retry')).not.toBe('false');
    expect(openai.sent()).toBe(2);
    expect(slow.calls - calls).toBe(1);
  }, 30_000);
});
