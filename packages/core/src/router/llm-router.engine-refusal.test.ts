import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest } from '../spec/index.js';
import { collect, rejection } from '../test/async.test-helpers.js';
import { usePrimaryAndBackup } from '../test/wire-router.test-helpers.js';

// What an engine refuses before sending anything (`LanguageEngineV1.refusal`: an author name the `openai` preset
// refuses) makes no attempt: nothing is sent, nothing taken from the deployment's rpm (a shared deployment is not
// filled by one client's bad requests), the next deployment answers, and with none left the refusal is the error.

const wire = usePrimaryAndBackup();
const named = (name: string): GenerateRequest => ({ messages: [{ role: 'user', content: 'Hi', name }] });
const OPENAI = { preset: 'openai', limits: { rpm: 1 } };

describe('router: an engine refusal', () => {
  it('is no attempt: the rpm of the deployment is left for a request it takes (generate and stream)', async () => {
    const { router } = wire.router({}, {}, OPENAI);
    for (let i = 0; i < 3; i++) {
      const e = await rejection(router.generate(named('Dr Who'), { model: 'primary' }));
      expect(LLMError.isInstance(e) && { code: e.code, param: e.param }).toEqual({ code: 'unsupported', param: 'messages.0.name' });
      const parts = await collect(router.stream(named('Dr Who'), { model: 'primary' }));
      expect(parts.at(-1)).toMatchObject({ type: 'error', error: { code: 'unsupported', param: 'messages.0.name' } });
    }
    expect(wire.primary.requests).toHaveLength(0);
    expect((await router.generate(named('alice'), { model: 'primary' })).text).toBeTypeOf('string');
    expect(wire.primary.requests).toHaveLength(1);
    await router.close();
  });

  it('falls over to the next deployment, which takes the name', async () => {
    const { router } = wire.router({ fallbacks: { primary: ['backup'] } }, {}, OPENAI);
    const r = await router.generate(named('Dr Who'), { model: 'primary' });
    expect(r.text).toBe('from backup');
    expect(wire.primary.requests).toHaveLength(0);
    expect((wire.backup.requests.at(-1)!.body as { messages: Array<{ name?: string }> }).messages[0]!.name).toBe('Dr Who');
    await router.close();
  });
});
