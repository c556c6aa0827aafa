import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest } from '../spec/index.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { startOpenAIWireServer } from '../test/openai-wire-server.js';
import { openAIWireRouter, usePrimaryAndBackup } from '../test/wire-router.test-helpers.js';
import type { AttemptRecord } from './types.js';

// A deployment whose engine refuses the request before sending it (`LanguageEngineV1.refusal`: here the `mistral`
// preset and a conversation ending with an assistant message it is not asked to continue) is left out while the call
// is planned: `route()`, a call's `explain` and the error name it in `excluded` with the refusal's words, code and
// field, never as the selected deployment; a configured fallback of a requested deployment that refuses takes it.
// Planning asks only an engine that already exists (a deployment that has served a call: `warm`); one not created yet
// is asked when the call reaches it (llm-router.engine-refusal-planning.test.ts).

const wire = usePrimaryAndBackup();
const MISTRAL = { preset: 'mistral' };
const ENDS_WITH_ASSISTANT: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ],
};
/** One call the deployment takes, so that its engine exists. */
async function warm(router: { generate(prompt: string, o: { model: string }): Promise<{ deployment: string }> }): Promise<void> {
  expect((await router.generate('Hi', { model: 'primary' })).deployment).toBe('primary');
}
const REFUSED = { name: 'primary', kind: 'unfit', code: 'unsupported', param: 'messages.1', reason: expect.stringContaining('Mistral refuses') };

describe('router: a deployment whose engine refuses the request, explained', () => {
  it('route() and a call\'s explain leave it out, in excluded with the refusal (no model asked)', async () => {
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, {}, MISTRAL);
    await warm(router);
    const preview = await router.route(ENDS_WITH_ASSISTANT, { explain: true });
    expect({ selected: preview.selected, order: preview.order, excluded: preview.excluded }).toEqual({ selected: 'backup', order: ['backup'], excluded: [REFUSED] });
    const r = await router.generate(ENDS_WITH_ASSISTANT, { explain: true });
    expect({ deployment: r.deployment, selected: r.decision?.selected, excluded: r.decision?.excluded }).toEqual({ deployment: 'backup', selected: 'backup', excluded: [REFUSED] });
    expect(r.attempts.map((a) => a.deployment)).toEqual(['backup']);
    expect(wire.primary.requests).toHaveLength(1);
    await router.close();
  });

  it('asked by name: its fallback is selected, the refusal in excluded (route, generate, stream)', async () => {
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, {}, MISTRAL);
    await warm(router);
    const preview = await router.route(ENDS_WITH_ASSISTANT, { model: 'primary', explain: true });
    expect({ selected: preview.selected, order: preview.order, excluded: preview.excluded }).toEqual({ selected: 'backup', order: ['backup'], excluded: [REFUSED] });
    expect(preview.reason).toContain('primary');
    const r = await router.generate(ENDS_WITH_ASSISTANT, { model: 'primary', explain: true });
    expect({ text: r.text, selected: r.decision?.selected, excluded: r.decision?.excluded }).toEqual({ text: 'from backup', selected: 'backup', excluded: [REFUSED] });
    const parts = await collect(router.stream(ENDS_WITH_ASSISTANT, { model: 'primary' }));
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect(wire.primary.requests).toHaveLength(1);
    await router.close();
  });

  it('asked by name with no fallback: route() rejects as the call does, unsupported naming the message', async () => {
    const { router } = wire.router({}, {}, MISTRAL);
    await warm(router);
    for (const e of [await rejection(router.route(ENDS_WITH_ASSISTANT, { model: 'primary' })), await rejection(router.generate(ENDS_WITH_ASSISTANT, { model: 'primary' }))]) {
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.1' });
      expect(e.message).toContain('Mistral refuses');
    }
    // A request the deployment takes is planned on it as before.
    expect((await router.route('Hi', { model: 'primary' })).selected).toBe('primary');
    expect(wire.primary.requests).toHaveLength(1);
    await router.close();
  });

  it('a fallback reached after a failure that refuses the request is in attempts as unsupported, not called', async () => {
    const failing = await startOpenAIWireServer({ script: { error: { status: 503, message: 'down' } } });
    const mistral = await startOpenAIWireServer({ script: { mistralRoles: true } });
    try {
      const { router } = openAIWireRouter(
        [
          { name: 'first', engine: 'openai-compatible', baseURL: failing.baseURL, model: 'a', apiKey: 'k', priority: 1 },
          { name: 'mis', engine: 'openai-compatible', preset: 'mistral', baseURL: mistral.baseURL, model: 'm', apiKey: 'k', priority: 2 },
          { name: 'last', engine: 'openai-compatible', baseURL: wire.backup.baseURL, model: 'b', apiKey: 'k', priority: 3 },
        ],
        { retries: { max: 0 }, fallbacks: { first: ['mis', 'last'] } },
      );
      const r = await router.generate(ENDS_WITH_ASSISTANT, { model: 'first' });
      expect(r.deployment).toBe('last');
      expect(r.attempts.map((a: AttemptRecord) => [a.deployment, a.errorCode ?? 'ok'])).toEqual([
        ['first', 'provider_unavailable'],
        ['mis', 'unsupported'],
        ['last', 'ok'],
      ]);
      expect(r.attempts[1]).not.toHaveProperty('strike');
      expect(mistral.requests).toHaveLength(0);
      await router.close();
    } finally {
      await Promise.all([failing.close(), mistral.close()]);
    }
  });
});
