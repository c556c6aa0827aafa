import { describe, expect, it } from 'vitest';
import { useOpenAIReasoning } from '../../test/reasoning-wire.test-helpers.js';
import { isOpenAIReasoningModel, openAIReasoningEffort } from './openai-reasoning-models.js';

// reasoning_effort only where the model takes it, and only values it takes (the EFFORTS table of
// openai-reasoning-models.ts): found in the review of commit be0df6a and, for the Codex rows, in the third
// reasoning review (of commit ecd447f), fixed since. The Codex
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

const { sentEffort } = useOpenAIReasoning();

/** Every effort, lowest first: the rows below map each to the effort sent. */
const all = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;

describe('model ids misclassified by isOpenAIReasoningModel', () => {
  // o1-mini and o1-preview are o-series models without reasoning_effort: OpenAI answers 400 "Unsupported
  // parameter: 'reasoning_effort' is not supported with this model" (the chat API reference lists the field for
  // o1 and o3-mini at launch; dzhng/deep-research#23/#89). Both ids are in openai 6.49's ChatModel union.
  it.each(['o1-mini', 'o1-mini-2024-09-12', 'o1-preview'])('%s: no reasoning_effort sent', async (model) => {
    expect(await sentEffort(model, 'high')).toBeUndefined();
  });

  // Ollama names models `gpt-oss:20b` / `gpt-oss:120b`; the comment of openai-reasoning-models.ts names Ollama as a
  // server that takes reasoning_effort for gpt-oss, but `gpt-oss(?:-|$)` needs a dash.
  it.each(['gpt-oss:20b', 'gpt-oss:120b'])('%s (Ollama tag) is a reasoning model', (model) => {
    expect(isOpenAIReasoningModel(model)).toBe(true);
  });
});

describe('effort values the model refuses are still sent', () => {
  // "Not all reasoning models support every value" (openai 6.49 ReasoningEffort doc). `none` arrived with gpt-5.1;
  // o-series models take low/medium/high only (gpt-5 adds minimal; xhigh/max are newer still). An effort the
  // deployment cannot take is a provider 400, where Gemini's engine maps levels per model (geminiThinkingLevel).
  // A chat client sending reasoning_effort "none" (gpt-5.1's default) to a router with an o3 fallback gets a 400.
  it('o3, effort none: not sent as "none"', async () => {
    expect(await sentEffort('o3', 'none')).not.toBe('none');
  });
  it('o4-mini, effort max: not sent as "max"', async () => {
    expect(await sentEffort('o4-mini', 'max')).not.toBe('max');
  });
});

describe('the nearest effort per family (openai-reasoning-models.ts)', () => {
  it.each([
    ['o3', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['o1-2024-12-17', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-oss:20b', ['low', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5-mini-2025-08-07', ['minimal', 'minimal', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5-pro', ['high', 'high', 'high', 'high', 'high', 'high', 'high']],
    ['gpt-5.1', ['none', 'low', 'low', 'medium', 'high', 'high', 'high']],
    ['gpt-5.1-codex-max', ['low', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['gpt-5.2', ['none', 'low', 'low', 'medium', 'high', 'xhigh', 'xhigh']],
    ['openai/gpt-5.2-pro', ['medium', 'medium', 'medium', 'medium', 'high', 'xhigh', 'xhigh']],
    ['deepseek-r1', [...all]],
  ] as const)('%s: none..max -> %j', (model, expected) => {
    expect(all.map((e) => openAIReasoningEffort(model, e))).toEqual(expected);
  });

  it('o1, o3-mini, o4-mini and o1-pro still take reasoning_effort', () => {
    expect(['o1', 'o3-mini', 'o4-mini-2025-04-16', 'o1-pro', 'gpt-oss-120b'].map(isOpenAIReasoningModel)).toEqual([true, true, true, true, true]);
  });
});

describe('Codex models refuse reasoning_effort "none"', () => {
  it.each(['gpt-5.1-codex', 'gpt-5.1-codex-mini', 'gpt-5.3-codex', 'gpt-5.2-codex'])('%s, effort none: not sent as "none"', async (model) => {
    expect(await sentEffort(model, 'none')).not.toBe('none');
  });

  it.each(['none', 'minimal'] as const)('gpt-5-codex, effort %s: not sent as "minimal"', async (effort) => {
    expect(await sentEffort('gpt-5-codex', effort)).not.toBe('minimal');
  });

  it('gpt-5.3-codex, effort minimal: not sent as "minimal" (control: the catch-all already maps it to low)', async () => {
    expect(await sentEffort('gpt-5.3-codex', 'minimal')).toBe('low');
  });
});

describe('Codex rows: each effort -> the effort sent', () => {
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
    expect(await sentEffort('gpt-5.1-codex-mini', 'low')).toBe('medium');
  });
});

describe('a model outside the family table: effort as asked, a budget of 0 as nothing', () => {
  // Many servers outside OpenAI refuse reasoning_effort "none" (xAI grok-3-mini: low and high; vLLM up to 0.15: low,
  // medium and high). A budget of 0 (Anthropic's thinking disabled through the gateway) asks for no thinking, not for
  // that wire value: nothing is sent (the model's default). An effort asked for is the caller's and goes as it is.
  it('effort none -> none, budget 0 -> nothing, a budget above 0 -> the effort of its budget', () => {
    expect(openAIReasoningEffort('grok-3-mini', 'none')).toBe('none');
    expect(openAIReasoningEffort('grok-3-mini', 'none', true)).toBeUndefined();
    expect(openAIReasoningEffort('grok-3-mini', 'medium', true)).toBe('medium');
    // A family in the table: its lowest effort, whichever way none came.
    expect(openAIReasoningEffort('gpt-5-mini', 'none', true)).toBe('minimal');
  });
});
