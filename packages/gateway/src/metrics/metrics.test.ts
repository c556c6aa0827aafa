import { readFileSync } from 'node:fs';
import { Counter, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import { BufferedCounter } from './buffered-counter.js';
import { GatewayMetrics } from './gateway-metrics.js';

function value(text: string, line: RegExp): number {
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : NaN;
}

describe('/metrics', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      models: [mockModel('mock'), mockModel('flaky', { failures: [{ code: 'provider_unavailable', times: 1 }] }, { priority: 1 }), mockModel('backup', {}, { priority: 2 })],
      routing: { fallbacks: ['backup'] },
      cache: { exact: { enabled: true } },
    });
  });
  afterEach(() => h.close());

  it('counts requests, durations, ttft, tokens, cost, cache hits and fallbacks in Prometheus format', async () => {
    const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 };
    await (await post(h.gateway, '/v1/chat/completions', chat)).text();
    await (await post(h.gateway, '/v1/chat/completions', chat)).text(); // exact cache hit
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, stream: true, messages: [{ role: 'user', content: 'stream me' }] })).text();
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'nope' })).text();
    await (await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'flaky' })).text(); // fails over to backup

    const res = await get(h.gateway, '/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(value(text, /^llm_requests_total\{model="mock",status="success",tenant="anonymous"\}/)).toBe(3);
    expect(value(text, /^llm_requests_total\{model="unknown",status="model_not_found",tenant="anonymous"\}/)).toBe(1);
    expect(value(text, /^llm_requests_total\{model="backup",status="success"/)).toBe(1);
    expect(value(text, /^llm_request_duration_seconds_count\{model="mock",status="success"\}/)).toBe(3);
    expect(value(text, /^llm_time_to_first_token_seconds_count\{model="mock"\}/)).toBe(1);
    // The two calls the provider answered; the cache hit called none and adds none.
    expect(value(text, /^llm_tokens_total\{type="output",model="mock"\}/)).toBe(5 + 5);
    expect(value(text, /^llm_cache_hits_total\{kind="exact",model="mock"\}/)).toBe(1);
    expect(value(text, /^llm_cost_usd_total\{model="mock",tenant="anonymous"\}/)).toBeGreaterThan(0);
    expect(value(text, /^llm_fallbacks_total\{from="flaky",to="backup"\}/)).toBe(1);
    expect(value(text, /^llm_requests_in_flight /)).toBe(0);
    // The mock reports no prompt-cache use: no series for it (not zeros).
    expect(text).not.toMatch(/^llm_tokens_total\{type="(cached_input|cache_write)"/m);
  });

  it('/health and /ready', async () => {
    expect(await (await get(h.gateway, '/health')).json()).toEqual({ status: 'ok' });
    expect((await get(h.gateway, '/ready')).status).toBe(200);
    const notReady = await createHarness({ gateway: { ready: () => false } });
    try {
      expect((await get(notReady.gateway, '/ready')).status).toBe(503);
    } finally {
      await notReady.close();
    }
  });
});

describe('the Grafana dashboard (docs/grafana/llmrr-dashboard.json)', () => {
  it('queries only metrics the gateway registers, by labels they have', async () => {
    // As the gateway server builds it (process metrics on: the memory panel reads process_resident_memory_bytes).
    const h = await createHarness({ models: [mockModel('mock')], gateway: { metrics: { defaultMetrics: true } } });
    try {
      const registry = h.gateway.registry!;
      const dashboard: unknown = JSON.parse(readFileSync(new URL('../../../../docs/grafana/llmrr-dashboard.json', import.meta.url), 'utf8'));
      // Every PromQL text: panel targets' expr, the template variables' query and definition.
      const queries: string[] = [];
      JSON.stringify(dashboard, (key, v: unknown) => {
        if ((key === 'expr' || key === 'query' || key === 'definition') && typeof v === 'string') queries.push(v);
        return v;
      });
      expect(queries.filter((q) => q.includes('llm_')).length).toBeGreaterThanOrEqual(20);
      const problems: string[] = [];
      for (const q of queries) {
        const names = [...q.matchAll(/\b(?:llm|process)_[a-z_]+/g)].map((m) => m[0]);
        const labels = new Set<string>();
        for (const m of q.matchAll(/\b(?:llm|process)_[a-z_]+\{([^}]*)\}/g)) for (const l of m[1]!.matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)) labels.add(l[1]!);
        for (const m of q.matchAll(/\bby\s*\(([^)]*)\)/g)) for (const l of m[1]!.split(',')) labels.add(l.trim());
        for (const m of q.matchAll(/label_values\([^,]+,\s*([a-z_]+)\)/g)) labels.add(m[1]!);
        const known = new Set<string>();
        for (const name of names) {
          // A histogram's series: name_bucket (with le), name_sum, name_count.
          const family = registry.getSingleMetric(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
          const metric = registry.getSingleMetric(family) as { labelNames?: readonly string[] } | undefined;
          if (!metric) problems.push(`${name} (in ${q})`);
          for (const l of metric?.labelNames ?? []) known.add(l);
          if (name.endsWith('_bucket')) known.add('le');
        }
        for (const l of labels) if (!known.has(l)) problems.push(`label ${l} (in ${q})`);
      }
      expect(problems).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

/**
 * The gateway's metrics next to a reference fed the same observations through prom-client's plain path
 * (`inc` with a labels object per call, as the gateway did before its counters kept cells): `/metrics`
 * must read the same, byte for byte, at every scrape and across a `resetMetrics()`.
 */
describe('/metrics against the plain prom-client path', () => {
  const reference = new GatewayMetrics({ registry: new Registry() });
  for (const metric of reference.registry.getMetricsAsArray()) {
    if (!(metric instanceof BufferedCounter)) continue;
    const names = (metric as unknown as { labelNames: string[] }).labelNames;
    metric.add = (by: number, ...values: Array<string | undefined>) => {
      const labels: Record<string, string | undefined> = {};
      names.forEach((name, i) => (labels[name] = values[i]));
      metric.inc(labels, by);
    };
    metric.get = Counter.prototype.get;
  }
  const methods = ['started', 'observe', 'observeTokenCount', 'observeWarnings'] as const;

  afterEach(() => vi.restoreAllMocks());

  it('reads the same through errors, cache hits, streams, fallbacks, token counts, warnings and a reset', async () => {
    for (const name of methods) {
      const original = GatewayMetrics.prototype[name] as (this: GatewayMetrics, ...args: unknown[]) => void;
      vi.spyOn(GatewayMetrics.prototype, name).mockImplementation(function (this: GatewayMetrics, ...args: unknown[]) {
        original.apply(this, args);
        if (this !== reference) original.apply(reference, args);
      });
    }
    const registry = new Registry();
    const h = await createHarness({
      models: [mockModel('mock'), mockModel('flaky', { failures: [{ code: 'provider_unavailable', times: 2 }] }, { priority: 1 }), mockModel('backup', {}, { priority: 2 }),
        mockModel('warn', { warnings: [{ code: 'setting_not_sent', field: 'seed', message: 'seed was not sent.' }, { code: 'Not Snake', message: 'x' }] }, { priority: 3 }),
      ],
      routing: { fallbacks: ['backup'] },
      cache: { exact: { enabled: true } },
      gateway: { metrics: { registry } },
    });
    reference.attach(h.router);
    const scrape = async () => {
      const text = await (await get(h.gateway, '/metrics')).text();
      expect(text).toBe(await reference.registry.metrics());
      return text;
    };
    try {
      const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 };
      const calls: unknown[] = [
        chat,
        chat, // exact cache hit
        { ...chat, stream: true, messages: [{ role: 'user', content: 'stream me' }] },
        { ...chat, model: 'nope' },
        { ...chat, model: 'flaky' }, // fails over to backup
        { ...chat, messages: 'not a list' },
        { ...chat, model: 'backup', messages: [{ role: 'user', content: 'another' }] },
        { ...chat, stream: true, model: 'flaky', messages: [{ role: 'user', content: 'stream over' }] },
        { ...chat, model: 'warn', messages: [{ role: 'user', content: 'warn me' }] },
        { ...chat, model: 'warn', stream: true, messages: [{ role: 'user', content: 'warn me streaming' }] },
      ];
      for (const body of calls) await (await post(h.gateway, '/v1/chat/completions', body)).text();
      await (await post(h.gateway, '/v1/messages/count_tokens', { model: 'mock', messages: [{ role: 'user', content: 'count me' }] })).text();
      await (await post(h.gateway, '/v1/messages/count_tokens', { model: 'nope', messages: [{ role: 'user', content: 'count me' }] })).text();
      const first = await scrape();
      expect(value(first, /^llm_requests_total\{model="mock",status="success",tenant="anonymous"\}/)).toBeGreaterThanOrEqual(3);
      expect(value(first, /^llm_tokens_total\{type="output",model="mock"\}/)).toBeGreaterThan(0);
      expect(first).toMatch(/^llm_token_counts_total\{model="mock",kind="(exact|estimate)",status="success",tenant="anonymous",endpoint="\/v1\/messages\/count_tokens"\} 1$/m);
      expect(first).toMatch(/^llm_requests_total\{model="unknown",status="model_not_found",tenant="anonymous"\} 1$/m);
      expect(first).toMatch(/^llm_warnings_total\{code="setting_not_sent"\} 2$/m);
      expect(first).toMatch(/^llm_warnings_total\{code="other"\} 2$/m);

      for (const body of calls.slice(0, 4)) await (await post(h.gateway, '/v1/chat/completions', body)).text();
      await scrape();
      // Calls whose counts have not been read yet, then a reset: both sides drop them.
      await (await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'backup' })).text();
      registry.resetMetrics();
      reference.registry.resetMetrics();
      await scrape();
      for (const body of [...calls].reverse()) await (await post(h.gateway, '/v1/chat/completions', body)).text();
      await (await post(h.gateway, '/v1/messages/count_tokens', { model: 'mock', messages: [{ role: 'user', content: 'count me again' }] })).text();
      const last = await scrape();
      expect(value(last, /^llm_requests_total\{model="unknown",status="model_not_found",tenant="anonymous"\}/)).toBe(1);
    } finally {
      await h.close();
    }
  });
});

describe('duration buckets', () => {
  it('a request of minutes lands in its own bucket, so quantiles above 120 s are not pinned at 120', async () => {
    const metrics = new GatewayMetrics({ registry: new Registry() });
    for (const seconds of [90, 200, 200, 500, 1000]) metrics.observe({ model: 'm', tenant: 't', status: 'success', durationMs: seconds * 1000, ttftMs: seconds * 1000 }, false);
    const text = await metrics.registry.metrics();
    const bucket = (name: string, le: string) => value(text, new RegExp(`^${name}_bucket\\{le="${le}",model="m"`));
    expect([bucket('llm_request_duration_seconds', '120'), bucket('llm_request_duration_seconds', '300'), bucket('llm_request_duration_seconds', '600'), bucket('llm_request_duration_seconds', '1800')]).toEqual([1, 3, 4, 5]);
    expect([bucket('llm_time_to_first_token_seconds', '120'), bucket('llm_time_to_first_token_seconds', '1800')]).toEqual([1, 5]);
  });
});
