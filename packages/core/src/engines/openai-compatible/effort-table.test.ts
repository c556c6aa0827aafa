import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { ReasoningEffort } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';
import { openAIReasoningEffort } from './openai-reasoning-models.js';

// Found by the third reasoning review (of commit ecd447f): the EFFORTS table of openai-reasoning-models.ts. The Codex
// models are reasoning-only and do not take `none`, but they fell under `^gpt-5\.1(?:-|$)` (none, low, medium, high)
// or the gpt-5.2+ catch-all (none..xhigh), so `none` went out as is and OpenAI answered 400. They now have their own
// rows, before the general gpt-5.x rows. Sources:
// - openai/codex#6647 (OpenAI staff reply quoting the API): "Unsupported value: 'none' is not supported with the
//   'gpt-5.1-codex' model. Supported values are: 'low', 'medium', and 'high'."
// - meerkat-core (docs.rs, citing https://developers.openai.com/api/docs/models/gpt-5.3-codex): gpt-5.3-codex takes
//   low, medium, high, xhigh ("Codex is a reasoning-only model - no none/minimal").
// - CherryHQ/cherry-studio#10430 (the API's 400): "Unsupported value: 'minimal' is not supported with the
//   'gpt-5-codex' model. Supported values are: 'low', 'medium', and 'high'." The table puts gpt-5-codex under
//   `^gpt-5(?:-|$)` (minimal..high), so minimal is sent, and none becomes the family's lowest: minimal again.
// - router-for-me/CLIProxyAPI#249: "the codex models are reasoning only and thus don't support a 'none' reasoning
//   effort".

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

function engine(model: string): OpenAICompatibleEngine {
  return new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'o', model, baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
}

const sent = async (model: string, effort: ReasoningEffort): Promise<unknown> => {
  await engine(model).generate({ messages: [{ role: 'user', content: 'Hi' }], reasoning: { effort } });
  return (server.requests[server.requests.length - 1]!.body as Record<string, unknown>).reasoning_effort;
};

describe('Codex models refuse reasoning_effort "none"', () => {
  it.each(['gpt-5.1-codex', 'gpt-5.1-codex-mini', 'gpt-5.3-codex', 'gpt-5.2-codex'])('%s, effort none: not sent as "none"', async (model) => {
    expect(await sent(model, 'none')).not.toBe('none');
  });

  it.each(['none', 'minimal'] as const)('gpt-5-codex, effort %s: not sent as "minimal"', async (effort) => {
    expect(await sent('gpt-5-codex', effort)).not.toBe('minimal');
  });

  it('gpt-5.3-codex, effort minimal: not sent as "minimal" (control: the catch-all already maps it to low)', async () => {
    expect(await sent('gpt-5.3-codex', 'minimal')).toBe('low');
  });
});

describe('Codex rows: each effort -> the effort sent', () => {
  const all = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
  it.each([
    ['gpt-5-codex', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['openai/gpt-5-codex-mini', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5.1-codex', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    // Treated as medium/high only (low is not documented for it): below medium -> medium.
    ['gpt-5.1-codex-mini', ['medium', 'medium', 'medium', 'medium', 'high', 'high', 'high']],
    ['gpt-5.1-codex-max', ['low', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['gpt-5.2-codex', ['low', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['gpt-5.3-codex', ['low', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    // The general rows are unchanged.
    ['gpt-5', ['minimal', 'minimal', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5.1', ['none', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5.2', ['none', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
  ])('%s', (model, expected) => {
    expect(all.map((e) => openAIReasoningEffort(model, e))).toEqual(expected);
  });

  it('on the wire: gpt-5.1-codex-mini effort low is sent as medium', async () => {
    expect(await sent('gpt-5.1-codex-mini', 'low')).toBe('medium');
  });
});
