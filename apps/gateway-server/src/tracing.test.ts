import type { GatewayLogEntry } from '@llmrr/gateway';
import { LLMRouter } from '@llmrr/core';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from './settings.js';
import { startTracing } from './tracing.js';

/** OTLP/JSON shapes we read (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding). */
interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  attributes: OtlpKeyValue[];
}
interface OtlpRequest {
  resourceSpans: Array<{ resource: { attributes: OtlpKeyValue[] }; scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }> }>;
}

/** OTLP's SPAN_KIND_CLIENT. */
const SPAN_KIND_CLIENT = 3;

function plain(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return v.arrayValue.values.map(plain);
  return undefined;
}

function attrs(list: OtlpKeyValue[]): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));
}

/** A local OTLP/HTTP collector: records what is POSTed to /v1/traces. */
function startCollector(): Promise<{ server: Server; url: string; requests: Array<{ path: string; contentType: string; body: string }> }> {
  const requests: Array<{ path: string; contentType: string; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests }));
  });
}

const appDir = fileURLToPath(new URL('..', import.meta.url));
const tsxBin = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The spans the collector received. */
function receivedSpans(requests: Array<{ path: string; body: string }>): OtlpSpan[] {
  return requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((p) => (JSON.parse(p.body) as OtlpRequest).resourceSpans)
    .flatMap((r) => r.scopeSpans)
    .flatMap((s) => s.spans);
}

/** Runs `src/main.ts` as `pnpm start` does, waits for its URL; `stop()` sends SIGTERM and resolves with the exit code. */
async function startServerProcess(extraEnv: Record<string, string>): Promise<{ url: string; output(): string; stop(): Promise<number | null> }> {
  const env: NodeJS.ProcessEnv = {};
  // The machine's own OTEL_* / LLMRR_* settings stay out of the test.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && !k.startsWith('LLMRR_') && !k.startsWith('LLM_ROUTER_') && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD') env[k] = v;
  const child = spawn(tsxBin, ['--conditions=@llmrr/source', 'src/main.ts'], { cwd: appDir, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

describe('gateway server: OpenTelemetry spans over OTLP/HTTP', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await new Promise<void>((done) => collector?.server.close(() => done()));
  });

  it('pnpm start with OTEL_EXPORTER_OTLP_ENDPOINT: requests reach the collector as GenAI spans (OTLP/HTTP JSON)', { timeout: 120_000 }, async () => {
    // The real server process, as `pnpm start` runs it, with the variables a user sets.
    const server = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      LLMRR_STATE: 'memory',
      OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`,
      OTEL_SERVICE_NAME: 'gw-under-test',
    });
    let chatId = '';
    let streamId = '';
    let embedId = '';
    let usage: { prompt_tokens: number; completion_tokens: number };
    try {
      expect(server.output()).toMatch(/\[info\] OpenTelemetry tracing on \(OTEL_EXPORTER_OTLP_ENDPOINT\): GenAI spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces \(OTLP\/HTTP JSON\)/);
      const chat = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'hello span' }], max_tokens: 50 });
      expect(chat.status).toBe(200);
      chatId = chat.headers.get('x-request-id') ?? '';
      usage = ((await chat.json()) as { usage: typeof usage }).usage;

      const streamed = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'stream me' }], stream: true });
      streamId = streamed.headers.get('x-request-id') ?? '';
      expect(await streamed.text()).toContain('[DONE]');

      const completion = await post(`${server.url}/v1/completions`, { model: 'mock', prompt: 'complete me' });
      expect(completion.status).toBe(200);
      await completion.text();

      const embedded = await post(`${server.url}/v1/embeddings`, { model: 'mock', input: 'embed me' });
      expect(embedded.status).toBe(200);
      embedId = embedded.headers.get('x-request-id') ?? '';
      await embedded.text();
    } finally {
      // Spans are batched: a graceful stop (SIGTERM) flushes them.
      expect(await server.stop()).toBe(0);
    }

    const posts = collector.requests.filter((r) => r.path === '/v1/traces');
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((p) => p.contentType.startsWith('application/json'))).toBe(true);
    const resources = posts.flatMap((p) => (JSON.parse(p.body) as OtlpRequest).resourceSpans);
    expect(attrs(resources[0]!.resource.attributes)['service.name']).toBe('gw-under-test');
    const scopes = resources.flatMap((r) => r.scopeSpans);
    expect(scopes.every((s) => s.scope.name === '@llmrr/core')).toBe(true);
    const all = scopes.flatMap((s) => s.spans);
    const byRequest = (id: string) => all.find((s) => s.kind === SPAN_KIND_CLIENT && attrs(s.attributes)['llmrr.request_id'] === id);

    expect(chatId).not.toBe('');
    const chatSpan = byRequest(chatId)!;
    expect(chatSpan).toBeDefined();
    expect(chatSpan.name).toBe('chat mock');
    expect(attrs(chatSpan.attributes)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'mock',
      'gen_ai.request.model': 'mock',
      'gen_ai.response.model': 'mock',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': usage!.completion_tokens,
      'llmrr.deployment': 'mock',
      'llmrr.tenant': 'demo',
      'llmrr.stream': false,
      'llmrr.cache_hit': false,
    });
    expect(attrs(chatSpan.attributes)['llmrr.cost_usd']).toEqual(expect.any(Number));
    // Its attempt is a child span in the same trace.
    const child = all.find((s) => s.parentSpanId === chatSpan.spanId);
    expect(child?.name).toBe('llmrr.attempt mock');
    expect(child?.traceId).toBe(chatSpan.traceId);

    const streamSpan = byRequest(streamId)!;
    expect(streamSpan.name).toBe('chat mock');
    expect(attrs(streamSpan.attributes)).toMatchObject({ 'llmrr.stream': true, 'gen_ai.usage.output_tokens': expect.any(Number) });
    expect(attrs(streamSpan.attributes)['llmrr.ttft_ms']).toEqual(expect.any(Number));

    expect(all.some((s) => s.name === 'text_completion mock' && attrs(s.attributes)['gen_ai.operation.name'] === 'text_completion')).toBe(true);
    // An embeddings span names its tenant and route as a chat span does.
    expect(attrs(byRequest(embedId)!.attributes)).toMatchObject({ 'gen_ai.operation.name': 'embeddings', 'llmrr.tenant': 'demo' });
    // No content by default.
    expect(posts.map((p) => p.body).join('\n')).not.toMatch(/hello span|stream me|complete me|embed me|Mock answer/);
  });

  it("a request with a W3C traceparent: its spans join the caller's trace under the caller's span; a malformed one starts a new trace", { timeout: 120_000 }, async () => {
    const own = await startCollector();
    const server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LLMRR_STATE: 'memory', OTEL_EXPORTER_OTLP_ENDPOINT: own.url });
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const ids: Record<string, string> = {};
    try {
      const chat = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'traced' }] }, { traceparent: `00-${trace}-b7ad6b7169203331-01`, tracestate: 'caller=1' });
      expect(chat.status).toBe(200);
      await chat.text();
      ids.chat = chat.headers.get('x-request-id') ?? '';
      const streamed = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'traced' }], stream: true }, { traceparent: `00-${trace}-00f067aa0ba902b7-01` });
      expect(await streamed.text()).toContain('[DONE]');
      ids.stream = streamed.headers.get('x-request-id') ?? '';
      const messages = await post(`${server.url}/v1/messages`, { model: 'mock', max_tokens: 20, messages: [{ role: 'user', content: 'traced' }] }, { traceparent: `00-${trace}-1111111111111111-01` });
      expect(messages.status).toBe(200);
      await messages.text();
      ids.messages = messages.headers.get('x-request-id') ?? '';
      const embedded = await post(`${server.url}/v1/embeddings`, { model: 'mock', input: 'traced' }, { traceparent: `00-${trace}-2222222222222222-01` });
      expect(embedded.status).toBe(200);
      await embedded.text();
      ids.embed = embedded.headers.get('x-request-id') ?? '';
      // The token counts (no model call): a count_tokens span each, in the caller's trace too.
      const counted = await post(`${server.url}/v1/messages/count_tokens`, { model: 'mock', messages: [{ role: 'user', content: 'traced' }] }, { traceparent: `00-${trace}-3333333333333333-01` });
      expect(counted.status).toBe(200);
      await counted.text();
      ids.count = counted.headers.get('x-request-id') ?? '';
      const inputTokens = await post(`${server.url}/v1/responses/input_tokens`, { model: 'mock', input: 'traced' }, { traceparent: `00-${trace}-4444444444444444-01` });
      expect(inputTokens.status).toBe(200);
      await inputTokens.text();
      ids.inputTokens = inputTokens.headers.get('x-request-id') ?? '';
      // Malformed: not an error, and no parent.
      const malformed = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'traced' }] }, { traceparent: `00-${trace}-zz-01`, tracestate: 'caller=1' });
      expect(malformed.status).toBe(200);
      await malformed.text();
      ids.malformed = malformed.headers.get('x-request-id') ?? '';
    } finally {
      expect(await server.stop()).toBe(0);
      await new Promise<void>((done) => own.server.close(() => done()));
    }
    const all = receivedSpans(own.requests);
    const byRequest = (id: string) => {
      expect(id).not.toBe('');
      const span = all.find((s) => attrs(s.attributes)['llmrr.request_id'] === id);
      expect(span).toBeDefined();
      return span!;
    };
    expect([ids.chat, ids.stream, ids.messages, ids.embed, ids.count, ids.inputTokens].map((id) => [byRequest(id!).traceId, byRequest(id!).parentSpanId])).toEqual([
      [trace, 'b7ad6b7169203331'],
      [trace, '00f067aa0ba902b7'],
      [trace, '1111111111111111'],
      [trace, '2222222222222222'],
      [trace, '3333333333333333'],
      [trace, '4444444444444444'],
    ]);
    for (const id of [ids.count, ids.inputTokens]) {
      const count = byRequest(id!);
      expect([count.name, attrs(count.attributes)['gen_ai.operation.name'], attrs(count.attributes)['llmrr.token_count']]).toEqual(['count_tokens mock', 'count_tokens', expect.any(Number)]);
    }
    // Its attempt stays its child, in the caller's trace.
    const chatSpan = byRequest(ids.chat!);
    expect(all.find((s) => s.parentSpanId === chatSpan.spanId)?.traceId).toBe(trace);
    const malformedSpan = byRequest(ids.malformed!);
    expect(malformedSpan.traceId).not.toBe(trace);
    expect(malformedSpan.parentSpanId ?? '').toBe('');
    expect(attrs(malformedSpan.attributes)['error.type']).toBeUndefined();
  });

  it("the caller's traceparent is used for parenting only: an unsampled one (flags 00) is traced all the same, its tracestate is not taken", { timeout: 120_000 }, async () => {
    const own = await startCollector();
    const server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LLMRR_STATE: 'memory', OTEL_EXPORTER_OTLP_ENDPOINT: own.url });
    const sampledTrace = 'a'.repeat(32);
    const unsampledTrace = 'b'.repeat(32);
    const ids: Record<string, string> = {};
    try {
      // The official openai client, as a traced service would call the gateway.
      const call = async (traceparent: string, tracestate?: string) => {
        const client = new OpenAI({ apiKey: 'x', baseURL: `${server.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent, ...(tracestate ? { tracestate } : {}) } });
        const { data, response } = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
        expect(data.choices[0]!.message.content).toMatch(/Mock answer/);
        return response.headers.get('x-request-id') ?? '';
      };
      ids.sampled = await call(`00-${sampledTrace}-${'1'.repeat(16)}-01`, 'attacker=' + 'x'.repeat(200));
      ids.unsampled = await call(`00-${unsampledTrace}-${'2'.repeat(16)}-00`);
    } finally {
      expect(await server.stop()).toBe(0);
      await new Promise<void>((done) => own.server.close(() => done()));
    }
    const all = receivedSpans(own.requests);
    const spansOf = (id: string) => {
      expect(id).not.toBe('');
      return all.filter((s) => attrs(s.attributes)['llmrr.request_id'] === id);
    };
    const sampled = spansOf(ids.sampled!);
    expect(sampled.length).toBeGreaterThan(0);
    expect(sampled.map((s) => s.traceId)).toEqual(sampled.map(() => sampledTrace));
    // Not the caller's tracestate on the operator's spans.
    expect(sampled.map((s) => s.traceState ?? '')).toEqual(sampled.map(() => ''));
    // The caller's sampled flag decides nothing: the call is traced, under the caller's span.
    const unsampled = spansOf(ids.unsampled!);
    const span = unsampled.find((s) => s.kind === SPAN_KIND_CLIENT);
    expect(span, 'the request span of the call whose caller sent sampled=00').toBeDefined();
    expect([span!.traceId, span!.parentSpanId]).toEqual([unsampledTrace, '2'.repeat(16)]);
    expect(unsampled.length).toBe(sampled.length);
  });

  it('is off by default and reads its settings from the OTEL_* variables', () => {
    expect(readSettings({}, '/').otel).toBeUndefined();
    expect(readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, '/').otel).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      enabledBy: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      serviceName: 'llmrr-gateway',
      captureContent: false,
    });
    expect(readSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/custom/traces', OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }, '/').otel).toMatchObject({
      tracesUrl: 'https://c.example/custom/traces',
      captureContent: true,
    });
    expect(readSettings({ LLMRR_OTEL: '1' }, '/').otel).toMatchObject({ tracesUrl: 'http://localhost:4318/v1/traces', enabledBy: 'LLMRR_OTEL' });
    expect(readSettings({ LLMRR_OTEL: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, '/').otel).toBeUndefined();
    expect(readSettings({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, '/').otel).toBeUndefined();
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318 ' + 'x' }, '/')).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => readSettings({ LLMRR_OTEL: 'maybe' }, '/')).toThrow(/LLMRR_OTEL/);
  });

  it('an unreachable collector does not break the server: it serves, stops cleanly, and logs the failed export', { timeout: 120_000 }, async () => {
    const closed = await startCollector();
    await new Promise<void>((done) => closed.server.close(() => done()));
    const server = await startServerProcess({ PORT: '0', HOST: '127.0.0.1', LLMRR_STATE: 'memory', OTEL_EXPORTER_OTLP_ENDPOINT: closed.url });
    let status = 0;
    try {
      const res = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'x' }] });
      status = res.status;
      await res.text();
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(status).toBe(200);
    expect(server.output()).toMatch(new RegExp(`\\[warn\\] OpenTelemetry: exporting the last spans to ${closed.url}/v1/traces (failed|did not finish within 3000 ms)`));
  });

  it('names the collector in its log lines without the credentials its URL carries (user info, query string)', { timeout: 120_000 }, async () => {
    const closed = await startCollector();
    await new Promise<void>((done) => closed.server.close(() => done()));
    const port = new URL(closed.url).port;
    const server = await startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      LLMRR_STATE: 'memory',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://tenant-42:glc_s3cr3t-token@127.0.0.1:${port}/v1/traces?api_key=q5ecret#frag`,
    });
    try {
      // A span queued, so stopping tries to export it (and fails: nothing listens there).
      const res = await post(`${server.url}/v1/chat/completions`, { model: 'mock', messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(200);
      await res.text();
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const out = server.output();
    expect(out).toContain(`[info] OpenTelemetry tracing on (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): GenAI spans to http://127.0.0.1:${port}/v1/traces (OTLP/HTTP JSON)`);
    expect(out).toMatch(new RegExp(`\\[warn\\] OpenTelemetry: exporting the last spans to http://127\\.0\\.0\\.1:${port}/v1/traces (failed|did not finish)`));
    for (const secret of ['glc_s3cr3t-token', 'tenant-42', 'q5ecret']) expect(out).not.toContain(secret);
    // A URL refused at startup is named without them too.
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://tenant-42:glc_s3cr3t-token@c.example/v1/traces' }, '/')).toThrow(
      expect.objectContaining({ message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL, got "ftp://c.example/v1/traces"' }),
    );
  });

  it('set but not installed: a clear log line naming the packages, and the gateway runs on without tracing', async () => {
    const router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock' }] });
    const logs: GatewayLogEntry[] = [];
    const notFound = (name: string) => Object.assign(new Error(`Cannot find package '${name}' imported from /app/tracing.js`), { code: 'ERR_MODULE_NOT_FOUND' });
    const tracing = await startTracing(
      router,
      { tracesUrl: 'http://127.0.0.1:1/v1/traces', enabledBy: 'OTEL_EXPORTER_OTLP_ENDPOINT', serviceName: 'x', captureContent: false },
      (e) => logs.push(e),
      // api and sdk-trace "load" (startTracing stops before using them); the other two are missing.
      { importer: (name) => (name.includes('exporter') || name.includes('resources') ? Promise.reject(notFound(name)) : Promise.resolve({})) },
    );
    expect(tracing).toBeUndefined();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'warn' });
    expect(logs[0]!.message).toMatch(/OpenTelemetry tracing is on \(OTEL_EXPORTER_OTLP_ENDPOINT\) but @opentelemetry\/exporter-trace-otlp-http, @opentelemetry\/resources are not installed; running without tracing/);
    expect(logs[0]!.message).toContain('pnpm add @opentelemetry/api @opentelemetry/sdk-trace @opentelemetry/exporter-trace-otlp-http @opentelemetry/resources @opentelemetry/core');
    expect((await router.generate('still works')).text).toMatch(/^Mock answer/);
    await router.close();
  });
});
