import { makeUsage, SqliteSemanticStore, tenantScopedId } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import type { GatewayLogEntry } from '@llmrr/gateway';
import OpenAI from 'openai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findStoriesModel } from './default-config.js';
import { readSettings } from './settings.js';
import { DEMO_TENANT_ID, startServer, type RunningServer } from './start-server.js';

const ADMIN = 'test-admin-key-0123456789abcdef';

describe('gateway server on embedded defaults', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-'));
    server = await startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_ADMIN_KEY: ADMIN }, dir), () => {});
  });
  afterAll(async () => {
    await server?.close(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the OpenAI API to the openai client without a key (demo tenant), streamed and not', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-needed-in-demo-mode', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.choices[0]!.message.content).toBe('Mock answer to: hello');
    const stream = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Mock answer to: hello');
    const usage = await server.stores.ledger.summary({ tenantId: 'demo' });
    expect(usage.requests).toBe(2);
  });

  it('keeps state in SQLite under the data dir, and the admin API works with LLMRR_ADMIN_KEY', async () => {
    const res = await fetch(`${server.url}/admin/tenants`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as { data: Array<{ id: string; name: string }> };
    expect(body.data.map((t) => t.id)).toContain('demo');
    expect(body.data.find((t) => t.id === 'demo')!.name).toMatch(/demo/i);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('process_resident_memory_bytes');
  });

  const stories = findStoriesModel(process.env.LLMRR_SHARED_DIR);
  it.skipIf(!stories)('streams from the real stories260K GGUF model when it is present', async () => {
    expect(server.router.models().map((m) => m.name)).toContain('stories260K');
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'demo', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 24, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let completionTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
    expect(text.trim().length).toBeGreaterThan(0);
    expect(completionTokens).toBeGreaterThan(0);
    expect(completionTokens).toBeLessThanOrEqual(24);
  });
});

describe('configuration', () => {
  it('reads llmrr.config.yaml from the working directory and names a bad field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-cfg-'));
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: only-mock\n    engine: mock\n');
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {});
      try {
        expect(server.configSource).toBe(join(dir, 'llmrr.config.yaml'));
        expect(server.router.models().map((m) => m.name)).toEqual(['only-mock']);
      } finally {
        await server.close(500);
      }
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: x\n    engine: mock\n    priority: high\n');
      await expect(startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {})).rejects.toThrow(/models\.0\.priority/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown routing.strategy, and options of a strategy it does not have, naming the line and column in the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-strategy-'));
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: x\n    engine: mock\nrouting:\n  strategy: cost-optimised\n');
      await expect(startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {})).rejects.toThrow(
        /routing\.strategy \(line 5, column 13\): unknown strategy "cost-optimised"/,
      );
      // The server's router adds no strategy: options of one it does not have are never read, refused too.
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: x\n    engine: mock\nrouting:\n  options:\n    balnced: { errorPenalty: 0.5 }\n');
      await expect(startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {})).rejects.toThrow(
        /routing\.options\.balnced \(line 6, column 14\): options of unknown strategy "balnced", never read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A Gemini chat model has no :batchEmbedContents: as the semantic cache's embedder every lookup would be a miss
  // reported only as `cache:error` ("lacks capabilities: embeddings"). Refused at startup, naming the field.
  it('refuses a semantic cache whose embedder is a Gemini chat deployment; a Gemini embedding model is taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-embedder-'));
    const config = (model: string) =>
      `models:\n  - name: chat\n    engine: mock\n  - name: gem\n    engine: gemini\n    model: ${model}\n    apiKey: k\ncache:\n  semantic:\n    enabled: true\n    embedder: gem\n`;
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), config('gemini-2.5-flash'));
      await expect(startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {})).rejects.toThrow(
        /cache\.semantic\.embedder: deployment "gem" cannot embed \(lacks capabilities: embeddings\)/,
      );
      writeFileSync(join(dir, 'llmrr.config.yaml'), config('gemini-embedding-001'));
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), () => {});
      await server.close(500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs what the semantic cache reports once (a SQLite file cut at open to fit maxEntries) to the server log at level warn, not console.warn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-semantic-warn-'));
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      // A file written under a larger bound: three rows, opened by a server whose cache keeps two.
      const seed = await SqliteSemanticStore.open(join(dir, 'semantic.db'), { maxEntries: 10 });
      const answer = { text: 'a', toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(1, 1), deployment: 'chat', model: 'mock', provider: 'mock', createdAt: 0 };
      await seed.addMany([1, 2, 3].map((i) => ({ namespace: 'ns', tenant: 'demo', prompt: `q${i}`, vector: Float32Array.of(i, 1, 0, 0), answer, expiresAt: Date.now() + 600_000 })));
      await seed.close();
      writeFileSync(
        join(dir, 'llmrr.config.yaml'),
        'models:\n  - name: chat\n    engine: mock\n  - name: emb\n    engine: mock\n    capabilities: [embeddings]\n' +
          'cache:\n  semantic:\n    enabled: true\n    embedder: emb\n    maxEntries: 2\n    store: { type: sqlite, path: semantic.db }\n',
      );
      const logged: GatewayLogEntry[] = [];
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory' }, dir), (e) => logged.push(e));
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
        await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] }); // builds the cache
        const warned = logged.filter((e) => e.level === 'warn' && /semantic cache/.test(e.message));
        expect(warned).toHaveLength(1);
        expect(warned[0]!.message).toMatch(/semantic\.db: cut 1 of 3 rows on open, the least recently used, to fit cache\.semantic\.maxEntries \(2\)/);
        expect(spy).not.toHaveBeenCalled();
      } finally {
        await server.close(500);
      }
    } finally {
      spy.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a tenant created through the admin API on a v3 config is served the shared models (unknownTenant: shared)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-v3-'));
    try {
      writeFileSync(
        join(dir, 'llmrr.config.yaml'),
        'version: 3\nmodels:\n  - name: shared-mock\n    engine: mock\ntenants:\n  - id: acme\n    name: Acme\n',
      );
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_ADMIN_KEY: ADMIN, LLMRR_DEMO: 'false' }, dir), () => {});
      try {
        const admin = (path: string, body: unknown) =>
          fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        expect((await admin('/admin/tenants', { id: 'newco', name: 'New Co' })).status).toBe(201);
        const { secret } = (await (await admin('/admin/tenants/newco/keys', { name: 'k' })).json()) as { secret: string };
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 });
        const res = await client.chat.completions.create({ model: 'shared-mock', messages: [{ role: 'user', content: 'hi' }] });
        expect(res.choices[0]!.message.content).toBe('Mock answer to: hi');
        expect((await server.stores.ledger.summary({ tenantId: 'newco' })).requests).toBe(1);
        // The router itself still knows only the config's tenant; others get the shared deployments.
        expect(server.router.models('newco').map((m) => m.name)).toEqual(['shared-mock']);
      } finally {
        await server.close(500);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LLMRR_KEEP_ALIVE_TIMEOUT_MS sets how long an idle client connection stays open (announced in Keep-Alive)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-ka-'));
    const keepAliveOf = (url: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        httpGet(`${url}/health`, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers['keep-alive'] as string | undefined));
        }).on('error', reject);
      });
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: only-mock\n    engine: mock\n');
      for (const [env, expected] of [[{}, 'timeout=5'], [{ LLMRR_KEEP_ALIVE_TIMEOUT_MS: '65000' }, 'timeout=65']] as const) {
        const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', ...env }, dir), () => {});
        try {
          expect(await keepAliveOf(server.url)).toBe(expected);
        } finally {
          await server.close(500);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('LLMRR_STREAM_HOLD_MS=0 commits a stream at once: a keep-alive comment first, no x-llmrr-model header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-hold-'));
    try {
      writeFileSync(join(dir, 'llmrr.config.yaml'), 'models:\n  - name: only-mock\n    engine: mock\n');
      for (const [env, committed] of [[{}, false], [{ LLMRR_STREAM_HOLD_MS: '0' }, true]] as const) {
        const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', ...env }, dir), () => {});
        try {
          const res = await fetch(`${server.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'only-mock', messages: [{ role: 'user', content: 'hello' }], stream: true }),
          });
          const text = await res.text();
          expect(res.status).toBe(200);
          expect(text.startsWith(': keep-alive\n\n'), JSON.stringify(env)).toBe(committed);
          expect(res.headers.get('x-llmrr-model'), JSON.stringify(env)).toBe(committed ? null : 'only-mock');
          expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
        } finally {
          await server.close(500);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings by name', () => {
    expect(() => readSettings({ PORT: 'eighty' }, '/')).toThrow(/PORT/);
    expect(() => readSettings({ LLMRR_STATE: 'cloud' }, '/')).toThrow(/LLMRR_STATE/);
    expect(() => readSettings({ LLMRR_ADMIN_KEY: 'short' }, '/')).toThrow(/LLMRR_ADMIN_KEY/);
    expect(readSettings({}, '/srv')).toMatchObject({ port: 3006, host: '127.0.0.1', dataDir: '/srv/.data', demo: true, state: 'embedded' });
  });
});

describe('request size', () => {
  let dir: string;
  let upstream: OpenAIWireServer;
  beforeAll(async () => {
    upstream = await startOpenAIWireServer();
    dir = mkdtempSync(join(tmpdir(), 'llmrr-size-'));
    writeFileSync(
      join(dir, 'llmrr.config.json'),
      JSON.stringify({ models: [{ name: 'gpt-vision', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'vision'], contextWindow: 1_000_000 }] }),
    );
  });
  afterAll(async () => {
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const serve = (env: Record<string, string>) => startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_DEMO: '1', ...env }, dir), () => {});
  const chat = (server: RunningServer, content: OpenAI.Chat.ChatCompletionMessageParam['content'], messages = 1) =>
    new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'demo', maxRetries: 0 }).chat.completions
      .create({ model: 'gpt-vision', messages: Array.from({ length: messages }, () => ({ role: 'user', content }) as OpenAI.Chat.ChatCompletionMessageParam) })
      .then(
        (r) => ({ status: 200, code: undefined as string | undefined, param: undefined as string | null | undefined, content: r.choices[0]?.message.content }),
        (e: InstanceType<typeof OpenAI.APIError>) => ({ status: e.status, code: e.code ?? undefined, param: e.param, content: undefined }),
      );

  it('by default a chat request with one 4.5 MB image (6 MB as base64) is served, as OpenAI and Anthropic serve it', async () => {
    const server = await serve({});
    try {
      const before = upstream.requests.length;
      const image = `data:image/png;base64,${Buffer.alloc(4_500_000, 7).toString('base64')}`;
      const res = await chat(server, [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: image } }]);
      expect(res).toMatchObject({ status: 200, code: undefined });
      expect(upstream.requests.length - before).toBe(1);
    } finally {
      await server.close(1000);
    }
  });

  it('LLMRR_MAX_BODY_BYTES and LLMRR_MAX_MESSAGES set the limits: a larger body is a 413, more messages a 400, neither reaches the provider', async () => {
    const server = await serve({ LLMRR_MAX_BODY_BYTES: String(64 * 1024), LLMRR_MAX_MESSAGES: '2' });
    try {
      const before = upstream.requests.length;
      expect(await chat(server, 'x'.repeat(100 * 1024))).toMatchObject({ status: 413, code: 'payload_too_large' });
      expect(await chat(server, 'hi', 3)).toMatchObject({ status: 400, param: 'messages' });
      expect(upstream.requests.length).toBe(before);
      expect(await chat(server, 'x'.repeat(16 * 1024), 2)).toMatchObject({ status: 200 });
    } finally {
      await server.close(1000);
    }
  });
});

describe('end-user ids', () => {
  it('LLMRR_END_USER_ID_SECRET keys the scoped end-user ids the shared models receive', async () => {
    const upstream = await startOpenAIWireServer();
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-end-user-'));
    const secret = 'end-user-secret-0123456789abcdef';
    try {
      writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [{ name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k' }] }));
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_DEMO: '1', LLMRR_END_USER_ID_SECRET: secret }, dir), () => {});
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'demo', maxRetries: 0 });
        await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'Hi' }], user: 'bob', prompt_cache_key: 'session-1' });
        const body = upstream.requests.at(-1)!.body as Record<string, unknown>;
        // The demo tenant's call: scoped, keyed by the secret (not by the tenant id alone).
        expect([body.user, body.prompt_cache_key]).toEqual([tenantScopedId(DEMO_TENANT_ID, 'bob', secret), tenantScopedId(DEMO_TENANT_ID, 'session-1', secret)]);
        expect(body.user).not.toBe(tenantScopedId(DEMO_TENANT_ID, 'bob'));
      } finally {
        await server.close(1000);
      }
    } finally {
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a v3 config tenant\u2019s model on the operator\u2019s key (apiKeyEnv) gets them scoped while the config lists it, and once the gateway serves it from the store', async () => {
    const upstream = await startOpenAIWireServer();
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-end-user-config-tenant-'));
    const keyVar = 'LLMRR_TEST_OPERATOR_OPENAI_KEY';
    vi.stubEnv(keyVar, 'sk-operator');
    const model = (name: string, id: string) => ({ name, engine: 'openai-compatible', preset: 'openai', baseURL: upstream.baseURL, model: id, apiKeyEnv: keyVar, capabilities: ['chat', 'streaming'] });
    const withServer = async (tenants: object[], run: (url: string) => Promise<void>) => {
      writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ version: 3, models: [model('gpt', 'gpt-shared')], tenants }));
      const server = await startServer(readSettings({ PORT: '0', LLMRR_DATA_DIR: join(dir, 'data'), LLMRR_ADMIN_KEY: ADMIN, LLMRR_DEMO: 'false' }, dir), () => {});
      try {
        await run(server.url);
      } finally {
        await server.close(1000);
      }
    };
    const ask = (url: string, secret: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: secret, maxRetries: 0 }).chat.completions.create({ model: 'acme-gpt', messages: [{ role: 'user', content: 'Hi' }], user: 'bob' });
    try {
      let secret = '';
      await withServer([{ id: 'acme', name: 'Acme', models: [model('acme-gpt', 'gpt-acme')] }], async (url) => {
        const res = await fetch(`${url}/admin/tenants/acme/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'sdk' }) });
        expect(res.status, await res.clone().text()).toBe(201);
        secret = ((await res.json()) as { secret: string }).secret;
        await ask(url, secret);
      });
      // The config no longer lists acme: the tenant and its key stay in the store, its models served from there
      // (setTenant useEnv false), still on the operator's key through apiKeyEnv.
      await withServer([{ id: 'other', name: 'Other' }], (url) => ask(url, secret).then(() => {}));
      expect(upstream.requests.map((r) => [r.headers.authorization, (r.body as Record<string, unknown>).model, (r.body as Record<string, unknown>).user])).toEqual(
        Array(2).fill(['Bearer sk-operator', 'gpt-acme', tenantScopedId('acme', 'bob')]),
      );
    } finally {
      vi.unstubAllEnvs();
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('metrics key', () => {
  it('LLMRR_METRICS_KEY puts /metrics behind a bearer secret; a short one is refused at startup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-metrics-'));
    try {
      expect(() => readSettings({ LLMRR_METRICS_KEY: 'short' }, dir)).toThrow(/LLMRR_METRICS_KEY/);
      const key = 'metrics-key-0123456789abcdef';
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_METRICS_KEY: key }, dir), () => {});
      try {
        expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
        const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
        expect(ok.status).toBe(200);
        expect(await ok.text()).toContain('process_resident_memory_bytes');
      } finally {
        await server.close(500);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('upstream calls', () => {
  it('go through the keep-alive pool of createUpstreamFetch, which closes with the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-upstream-'));
    const seen: IncomingHttpHeaders[] = [];
    let open = 0;
    let onAllClosed: () => void = () => {};
    const allClosed = new Promise<void>((resolve) => (onAllClosed = resolve));
    // A provider speaking the OpenAI streaming wire format on loopback.
    const upstream = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-up', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.end(chunk({ role: 'assistant', content: 'Hello ' }, null) + chunk({ content: 'there' }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n');
      });
    });
    upstream.on('connection', (socket) => {
      open++;
      socket.on('close', () => --open === 0 && onAllClosed());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
      writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify({ models: [{ name: 'up', engine: 'openai-compatible', baseURL, model: 'gpt-up', apiKey: 'k' }] }));
      const server = await startServer(readSettings({ PORT: '0', LLMRR_STATE: 'memory', LLMRR_CONFIG: join(dir, 'llmrr.config.json') }, dir), () => {});
      try {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'demo', maxRetries: 0 });
        for (let i = 0; i < 2; i++) {
          const stream = await client.chat.completions.create({ model: 'up', messages: [{ role: 'user', content: 'hi' }], stream: true });
          let text = '';
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          expect(text).toBe('Hello there');
        }
      } finally {
        await server.close(500);
      }
      expect(seen).toHaveLength(2);
      // Global fetch accepts compressed answers (gzip, deflate); createUpstreamFetch asks for none (it reads answers as sent).
      expect(seen.every((h) => h['accept-encoding'] === 'identity')).toBe(true);
      // The pool kept its connection alive between calls and closed it with the server.
      await allClosed;
      expect(open).toBe(0);
    } finally {
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
