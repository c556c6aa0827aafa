import Anthropic from '@anthropic-ai/sdk';
import type { StateStores } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ServedGateway, ServeOptions } from '../node/serve-gateway.js';
import { createHarness, serveWithKey, type Harness, type HarnessOptions, type ModelInput } from './harness.js';

/** Anything a test started and the gateway must outlive: the local wire-format upstreams. */
export interface Closable {
  close(): Promise<void>;
}

export interface SdkGatewayOptions extends Omit<HarnessOptions, 'stores' | 'models'> {
  models: ModelInput[];
  /** Closed after the gateway by `close()`. */
  upstreams?: Closable[];
  /** `serveGateway`'s options (on port 0). */
  serve?: Omit<ServeOptions, 'port'>;
}

/** A gateway with memory stores served over node:http on port 0, with one key, for the official SDK clients. */
export interface SdkGateway {
  harness: Harness;
  served: ServedGateway;
  url: string;
  secret: string;
  ledger: StateStores['ledger'];
  /** A new official Anthropic client on the gateway (no retries). */
  anthropic(): Anthropic;
  /** A new official openai client on the gateway's `/v1` (no retries). */
  openai(): OpenAI;
  /** Closes the server, the harness, then the upstreams. */
  close(): Promise<void>;
}

/**
 * Serves a gateway over `models` (memory stores, tenant `acme` with one key, no provider env): the shared setup
 * of the `*.sdk.test.ts` files. Call it in `beforeAll` and `close()` it in `afterAll`.
 */
export async function servedGateway(options: SdkGatewayOptions): Promise<SdkGateway> {
  const { upstreams = [], serve, ...rest } = options;
  const harness = await createHarness({ routerOptions: { env: {} }, ...rest, stores: 'memory' });
  let keyed: Awaited<ReturnType<typeof serveWithKey>>;
  try {
    keyed = await serveWithKey(harness, serve);
  } catch (e) {
    // Not served: the harness (router, stores) is closed here, the upstreams by the caller.
    await harness.close();
    throw e;
  }
  const { secret, served } = keyed;
  return {
    harness,
    served,
    url: served.url,
    secret,
    ledger: harness.stores!.ledger,
    anthropic: () => new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0 }),
    openai: () => new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 }),
    async close() {
      try {
        await served.close(1000);
      } finally {
        try {
          await harness.close();
        } finally {
          await Promise.all(upstreams.map((u) => u.close()));
        }
      }
    },
  };
}

export interface SharedServedGateway {
  /** The served gateway (servedGateway with the options of sharedServedGateway). */
  readonly gw: SdkGateway;
}

/**
 * The setup of a file whose tests share one servedGateway: registers the hooks that serve it in `beforeAll`, with the
 * options `options()` gives (start the file's own upstreams there and pass them as `upstreams`; they are closed if the
 * gateway cannot be served), and close it, then those upstreams, in `afterAll`. Call it at the top of the file; read
 * `gw` in tests.
 */
export function sharedServedGateway(options: () => SdkGatewayOptions | Promise<SdkGatewayOptions>): SharedServedGateway {
  let gw: SdkGateway | undefined;
  beforeAll(async () => {
    const o = await options();
    try {
      gw = await servedGateway(o);
    } catch (e) {
      await Promise.all((o.upstreams ?? []).map((u) => u.close()));
      throw e;
    }
  });
  afterAll(() => gw?.close());
  return {
    get gw() {
      if (!gw) throw new Error('sharedServedGateway(): the gateway is served in beforeAll; read gw in tests');
      return gw;
    },
  };
}

/** A fetch counting the requests it sends (an SDK client's retries each count). */
function countingFetch(): { fetch: typeof fetch; sent: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    sent: () => n,
  };
}

/** An official Anthropic client on `gw` with the SDK's default retries (2), counting the requests it sends. */
export function countingAnthropic(gw: Pick<SdkGateway, 'url' | 'secret'>): { client: Anthropic; sent: () => number } {
  const counted = countingFetch();
  return { client: new Anthropic({ baseURL: gw.url, apiKey: gw.secret, maxRetries: 2, fetch: counted.fetch }), sent: counted.sent };
}

/** An official openai client on `gw`'s `/v1` with the SDK's default retries (2), counting the requests it sends. */
export function countingOpenAI(gw: Pick<SdkGateway, 'url' | 'secret'>): { client: OpenAI; sent: () => number } {
  const counted = countingFetch();
  return { client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret, maxRetries: 2, fetch: counted.fetch }), sent: counted.sent };
}

/**
 * The gateway of the stream-helper tests: one deployment `gpt` (chat, streaming, tools) on a local OpenAI-wire
 * upstream of model `gpt-test`, scripted by the test (`upstream.setScript`). `gw.close()` closes the upstream too.
 * `options` are the gateway's other options (e.g. `cache: { exact: { enabled: true } }`).
 */
export async function servedOverOpenAIWire(options: Omit<SdkGatewayOptions, 'models' | 'upstreams'> = {}): Promise<{ upstream: OpenAIWireServer; gw: SdkGateway }> {
  const upstream = await startOpenAIWireServer();
  try {
    const gw = await servedGateway({
      ...options,
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
      upstreams: [upstream],
    });
    return { upstream, gw };
  } catch (e) {
    await upstream.close();
    throw e;
  }
}

/** The messages an OpenAI-wire upstream received in its last request (there must be one). */
export function lastSentMessages<M = { role: string; content: unknown }>(upstream: OpenAIWireServer): M[] {
  const last = upstream.requests.at(-1);
  expect(last).toBeDefined();
  return (last!.body as { messages: M[] }).messages;
}

/** Forgets what the upstreams were sent (for `afterEach`). */
export function clearRequests(...upstreams: Array<{ requests: unknown[] } | undefined>): void {
  for (const u of upstreams) if (u) u.requests.length = 0;
}
