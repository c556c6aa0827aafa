/**
 * Shared scaffolding of the router's countTokens-and-circuit-breaker tests (test-only: `*.test-helpers.ts`
 * is left out of the build): a scripted Anthropic upstream, the routers over it, and their cleanup.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ModelConfigInput, RouterConfigInput } from '../config/schema.js';
import '../engines/index.js';
import { LLMRouter } from '../router/llm-router.js';
import { RedisCircuitStateStore } from '../router/resilience/redis-circuit-state-store.js';
import type { GenerateRequest } from '../spec/index.js';
import { anthropicErrorTypeForStatus, anthropicMessageBody } from './anthropic-wire-server.js';
import { startLoopbackHttp, type LoopbackHttp } from './loopback-http.test-helpers.js';

/**
 * What the upstream does with one request: answer (a count, or a message; optionally after `delayMs`), an
 * Anthropic error, a dropped connection, or nothing.
 */
export type Reply = { ok: true; delayMs?: number } | { status: number } | { drop: true } | { hang: true };

/**
 * An upstream speaking Anthropic's wire format on both endpoints the engine uses: POST /v1/messages (a
 * non-streamed message answer) and POST /v1/messages/count_tokens (`{ input_tokens: 4242 }`), each with its
 * own queue of scripted replies (default: answer). Errors carry Anthropic's body `{ type: 'error', error }`.
 */
export class CountTokensUpstream {
  readonly counts: Reply[] = [];
  readonly calls: Reply[] = [];
  /** Requests received, by path. */
  received: string[] = [];
  private server: LoopbackHttp | undefined;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  url = '';

  async start(): Promise<void> {
    this.server = await startLoopbackHttp((req, res) => void this.handle(req, res));
    this.url = this.server.url;
  }

  get countRequests(): number {
    return this.received.filter((p) => p === '/v1/messages/count_tokens').length;
  }

  get callRequests(): number {
    return this.received.filter((p) => p === '/v1/messages').length;
  }

  /** Clears the scripts, the received paths and any delayed answer still pending. */
  reset(): void {
    this.counts.length = 0;
    this.calls.length = 0;
    this.received = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async close(): Promise<void> {
    this.reset();
    await this.server?.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const path = (req.url ?? '').split('?')[0]!;
    this.received.push(path);
    const count = path === '/v1/messages/count_tokens';
    const reply = (count ? this.counts : this.calls).shift() ?? { ok: true };
    if ('hang' in reply) return;
    if ('drop' in reply) {
      req.socket.destroy();
      return;
    }
    if ('status' in reply) {
      const type = anthropicErrorTypeForStatus(reply.status);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': 'req_err' });
      res.end(JSON.stringify({ type: 'error', error: { type, message: `scripted ${reply.status}` } }));
      return;
    }
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_ok' });
      res.end(JSON.stringify(count ? { input_tokens: 4242 } : anthropicMessageBody({ content: 'ok' }, body)));
    };
    if (reply.delayMs === undefined) answer();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        answer();
      }, reply.delayMs);
      this.timers.add(t);
    }
  }
}

export const hello: GenerateRequest = { messages: [{ role: 'user', content: 'hello there, how are you' }] };

type CircuitBreakerInput = NonNullable<RouterConfigInput['routing']>['circuitBreaker'];
type RouterDeps = NonNullable<ConstructorParameters<typeof LLMRouter>[1]>;

/**
 * Registers the file's hooks (the upstream started before all tests and closed after them; every router
 * made through the fixture closed, and the upstream reset, after each test) and returns the fixture.
 */
export function useCountTokensCircuitFixture() {
  const upstream = new CountTokensUpstream();
  beforeAll(() => upstream.start());
  afterAll(() => upstream.close());
  const routers: LLMRouter[] = [];
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
    upstream.reset();
  });

  /** An Anthropic deployment named 'claude' on the upstream, with exact (remote) token counts. */
  const claude = (extra: Partial<ModelConfigInput> = {}): ModelConfigInput => ({
    name: 'claude',
    engine: 'anthropic',
    model: 'claude-test-1',
    baseURL: upstream.url,
    apiKey: 'sk-ant-test',
    options: { exactTokenCount: true },
    ...extra,
  });

  /** Records the router's circuit transitions as 'from->to'. */
  const watchCircuit = (r: LLMRouter): string[] => {
    const circuit: string[] = [];
    r.on('circuit', (e) => circuit.push(`${e.from}->${e.to}`));
    return circuit;
  };

  /** A router over the one Anthropic deployment, a clock the test moves (unless `deps.now` says otherwise), and the circuit transitions it saw. */
  const setup = (circuitBreaker: CircuitBreakerInput, deps: RouterDeps = {}) => {
    const clock = { now: 1_000_000 };
    const r = new LLMRouter({ models: [claude()], routing: { retries: { max: 0 }, circuitBreaker } }, { now: () => clock.now, ...deps });
    routers.push(r);
    return { r, clock, circuit: watchCircuit(r) };
  };

  /**
   * For a describe block that shares circuits through Redis at `redisUrl`: registers closing its stores
   * after each test and returns `twoRouters`, two routers (like two gateway processes) over one fresh key
   * prefix, failureThreshold 2 and one half-open probe.
   */
  const useRedisRouters = (redisUrl: string) => {
    const stores: RedisCircuitStateStore[] = [];
    afterEach(async () => {
      await Promise.all(routers.splice(0).map((r) => r.close()));
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });
    return async (cooldownMs = 60_000) => {
      const keyPrefix = `t${randomBytes(6).toString('hex')}:circuit:`;
      const make = async () => {
        const store = await RedisCircuitStateStore.connect(redisUrl, { keyPrefix });
        stores.push(store);
        const r = new LLMRouter({ models: [claude()], routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs, halfOpenMaxProbes: 1 } } }, { circuitStore: store });
        routers.push(r);
        return { r, store, circuit: watchCircuit(r) };
      };
      return { a: await make(), b: await make(), keyPrefix };
    };
  };

  return { upstream, routers, claude, setup, watchCircuit, useRedisRouters };
}

/** Starts an image server on 127.0.0.1 that never answers while `slow()` is true, else answers a PNG header. */
export async function startImageServer(slow: () => boolean = () => true): Promise<{ url: string; close(): Promise<void> }> {
  const images = await startLoopbackHttp((_req, res) => {
    if (slow()) return; // never answers
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
  return { url: `${images.url}/cat.png`, close: () => images.close() };
}
