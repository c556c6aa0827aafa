import type { RouterConfigInput, RouterOptions, StateStores } from '@llmrr/core';
import { LLMRouter, createStateStores } from '@llmrr/core';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway, type ServeOptions } from '../node/serve-gateway.js';
import type { Gateway, GatewayOptions } from '../types.js';

export type ModelInput = NonNullable<RouterConfigInput['models']>[number];

/** A mock deployment with a price, so costs are non-zero and budgets can bite. */
export function mockModel(name: string, options: Record<string, unknown> = {}, extra: Partial<ModelInput> = {}): ModelInput {
  return { name, engine: 'mock', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'tools', 'json', 'embeddings', 'completion'], options, ...extra };
}

export interface Harness {
  gateway: Gateway;
  router: LLMRouter;
  stores: StateStores | undefined;
  close(): Promise<void>;
}

export interface HarnessOptions {
  models?: ModelInput[];
  routing?: RouterConfigInput['routing'];
  cache?: RouterConfigInput['cache'];
  /** `memory` opens in-memory stores (SQLite in memory + memory limiter). Default none. */
  stores?: 'memory';
  routerOptions?: RouterOptions;
  gateway?: Partial<Omit<GatewayOptions, 'router' | 'stores'>>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const router = new LLMRouter(
    { models: options.models ?? [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 }, ...options.routing }, ...(options.cache ? { cache: options.cache } : {}) },
    options.routerOptions,
  );
  const stores = options.stores === 'memory' ? await createStateStores({ mode: 'memory' }) : undefined;
  const gateway = createGateway({ router, ...(stores ? { stores } : {}), log: () => {}, ...options.gateway });
  return {
    gateway,
    router,
    stores,
    async close() {
      await gateway.close();
      await router.close();
      await stores?.close();
    },
  };
}

/** Tenant `acme` with one key (`memory` stores needed), and the gateway served over Node on port 0: for the official SDK clients. */
export async function serveWithKey(h: Harness, serve: Omit<ServeOptions, 'port'> = {}): Promise<{ secret: string; served: ServedGateway }> {
  if (!h.stores) throw new Error('serveWithKey needs a harness with stores');
  await h.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
  const { secret } = await h.stores.tenants.createKey('acme', { name: 'sdk' });
  return { secret, served: await serveGateway(h.gateway, { ...serve, port: 0 }) };
}

/** `POST` a JSON body (or raw text / bytes) to the gateway without a server. */
/** Records each budget reservation's `estimateUsd` of `stores` (the reservations go on as before). */
export function recordReservations(stores: StateStores): number[] {
  const budgets = stores.budgets;
  const reserved: number[] = [];
  const reserve = budgets.reserve.bind(budgets);
  budgets.reserve = (r) => {
    reserved.push(r.estimateUsd);
    return reserve(r);
  };
  return reserved;
}

export function post(gateway: Gateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  return gateway.fetch(new Request(`http://gateway.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw }));
}

export function get(gateway: Gateway, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return gateway.fetch(new Request(`http://gateway.test${path}`, { headers }));
}

export interface SseFrame {
  event: string | undefined;
  data: string;
}

/** Splits an SSE body into frames (`event:` + `data:` lines), in order. */
export function parseSse(text: string): SseFrame[] {
  const frames: SseFrame[] = [];
  for (const block of text.split(/\n\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    frames.push({ event, data: data.join('\n') });
  }
  return frames;
}

/** JSON payloads of the `data:` frames except `[DONE]`. */
export function sseJson(text: string): Array<Record<string, unknown>> {
  return parseSse(text)
    .filter((f) => f.data !== '[DONE]')
    .map((f) => JSON.parse(f.data) as Record<string, unknown>);
}
