import { describe, expect, it } from 'vitest';
import { createOpenAICompatibleEngine } from '../engines/openai-compatible/index.js';
import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest } from '../spec/index.js';
import { rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter } from '../test/wire-router.test-helpers.js';
import { IdleGate } from './prefetch/idle-gate.js';
import type { DeploymentInfo, RouterEvents } from './types.js';

// While a call is planned, the router asks `refusal` only of engines that already exist (one not created yet has
// learned nothing, and its static refusal is asked when the call reaches it): planning creates no engine, a factory
// that throws is called only when its deployment is tried, and a deployment left out for a refusal is never in the
// plan's order too. A skipped (refused) deployment is in the result's attempts marked `skipped`: no request was sent.

const ENDS_WITH_ASSISTANT: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ],
};

async function servers() {
  const [gpt, mis] = await Promise.all([startOpenAIWireServer({ script: { text: 'from gpt' } }), startOpenAIWireServer({ script: { mistralRoles: true } })]);
  return { gpt, mis, close: () => Promise.all([gpt.close(), mis.close()]) };
}

describe('router: engine refusals while planning', () => {
  it('a refusing configured fallback is in excluded, not in order too', async () => {
    const s = await servers();
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'gpt', engine: 'openai-compatible', baseURL: s.gpt.baseURL, model: 'a', apiKey: 'k', priority: 1 },
          { name: 'mis', engine: 'openai-compatible', preset: 'mistral', baseURL: s.mis.baseURL, model: 'm', apiKey: 'k', priority: 2 },
        ],
        { fallbacks: { gpt: ['mis'] } },
      );
      // `mis` has served a call: its engine exists, and is asked while planning.
      expect((await router.generate('Hi', { model: 'mis' })).deployment).toBe('mis');
      const d = await router.route(ENDS_WITH_ASSISTANT, { explain: true });
      expect({ order: d.order, excluded: d.excluded.map((e) => e.name) }).toEqual({ order: ['gpt'], excluded: ['mis'] });
      await router.close();
    } finally {
      await s.close();
    }
  });

  it('no engine is created while planning: a throwing factory of a deployment never tried is never called', async () => {
    const s = await servers();
    let built = 0;
    const heavy = () => {
      built++;
      throw new LLMError({ code: 'config_invalid', message: 'heavy engine: no weights here' });
    };
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'gpt', engine: 'openai-compatible', baseURL: s.gpt.baseURL, model: 'a', apiKey: 'k', priority: 1 },
          { name: 'heavy', engine: 'heavy', priority: 2 },
        ],
        {},
        { engineFactories: { 'openai-compatible': createOpenAICompatibleEngine, heavy } },
      );
      for (let i = 0; i < 5; i++) expect((await router.generate('Hi')).deployment).toBe('gpt');
      expect((await router.route(ENDS_WITH_ASSISTANT, { explain: true })).order).toEqual(['gpt', 'heavy']);
      expect(built).toBe(0);
      // Tried, its creation error is the attempt's (one creation per call).
      const e = await rejection(router.generate('Hi', { model: 'heavy' }));
      expect(LLMError.isInstance(e) && { code: e.code, message: e.message }).toEqual({ code: 'config_invalid', message: 'heavy engine: no weights here' });
      expect(built).toBe(1);
      await router.close();
    } finally {
      await s.close();
    }
  });

  it('a deployment whose engine is not created yet is asked when reached: skipped, marked so in attempts; asked while planning after', async () => {
    const s = await servers();
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'mis', engine: 'openai-compatible', preset: 'mistral', baseURL: s.mis.baseURL, model: 'm', apiKey: 'k', priority: 1 },
          { name: 'gpt', engine: 'openai-compatible', baseURL: s.gpt.baseURL, model: 'a', apiKey: 'k', priority: 2 },
        ],
        { retries: { max: 0 } },
      );
      const r = await router.generate(ENDS_WITH_ASSISTANT);
      expect(r.deployment).toBe('gpt');
      expect(r.attempts.map((a) => ({ deployment: a.deployment, errorCode: a.errorCode, skipped: a.skipped }))).toEqual([
        { deployment: 'mis', errorCode: 'unsupported', skipped: true },
        { deployment: 'gpt', errorCode: undefined, skipped: undefined },
      ]);
      expect(s.mis.requests).toHaveLength(0);
      // Its engine now exists: left out while planning, explained.
      const d = await router.route(ENDS_WITH_ASSISTANT, { explain: true });
      expect({ order: d.order, excluded: d.excluded.map((e) => [e.name, e.code]) }).toEqual({ order: ['gpt'], excluded: [['mis', 'unsupported']] });
      // The prefetch idle gate counts no request for the skipped deployment.
      const info = (name: string) => ({ name, config: { name, limits: { rpm: 2 } }, stats: { inFlight: 0 } }) as unknown as DeploymentInfo;
      const gate = new IdleGate({ fraction: 1, maxLiveInFlight: 4, deployments: () => [info('mis')], now: () => 0 });
      const end = { requestId: 'r', stream: false, kind: 'generate', metadata: {}, result: r } as unknown as RouterEvents['request:end'];
      gate.record(end);
      gate.record(end);
      expect(gate.busy(undefined)).toBeUndefined();
      await router.close();
    } finally {
      await s.close();
    }
  });

  it("a requested deployment that refuses: its only fallback, with an open circuit, is tried anyway (as a plan's only candidate is)", async () => {
    const s = await servers();
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'mis', engine: 'openai-compatible', preset: 'mistral', baseURL: s.mis.baseURL, model: 'm', apiKey: 'k', priority: 1 },
          { name: 'gpt', engine: 'openai-compatible', baseURL: s.gpt.baseURL, model: 'a', apiKey: 'k', priority: 2 },
        ],
        { retries: { max: 0 }, fallbacks: { mis: ['gpt'] }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      );
      expect((await router.generate('Hi', { model: 'mis' })).deployment).toBe('mis');
      s.gpt.setScript({ error: { status: 503, message: 'down' } });
      await rejection(router.generate('Hi', { model: 'gpt' }));
      expect(router.models().find((m) => m.name === 'gpt')!.stats.circuit).toBe('open');
      s.gpt.setScript({ text: 'from gpt' });
      // The explanation says the fallback's circuit was open and it is tried anyway (not that it is simply the first).
      const preview = await router.route(ENDS_WITH_ASSISTANT, { model: 'mis', explain: true });
      expect(preview.reason).toMatch(/^"gpt" is a fallback of "mis", which refuses this request \(see excluded\); every fallback's circuit was open, so the one opened longest ago is tried anyway/);
      const r = await router.generate(ENDS_WITH_ASSISTANT, { model: 'mis' });
      expect({ deployment: r.deployment, text: r.text }).toEqual({ deployment: 'gpt', text: 'from gpt' });
      await router.close();
    } finally {
      await s.close();
    }
  });
});
