import { describe, expect, it } from 'vitest';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';
import { anthropicDeploymentTakesTemperatureAbove1, anthropicRefusesTemperatureWithTopP } from './fit-anthropic-sampling.js';
import { convertToAnthropicRequest } from './convert-to-anthropic-request.js';

const settings = (modelId: string) => ({ modelId, defaultMaxTokens: 1024, jsonToolName: 'json', provider: 'anthropic' });

describe('anthropicRefusesTemperatureWithTopP', () => {
  it.each([
    ['claude-opus-4-1', true],
    ['claude-opus-4-1-20250805', true],
    ['claude-sonnet-4-5-20250929', true],
    ['claude-sonnet-4-6', true],
    ['claude-haiku-4-5', true],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', true],
    ['claude-opus-5', true],
    ['claude-opus-4-20250514', false],
    ['claude-sonnet-4-20250514', false],
    ['claude-3-7-sonnet-20250219', false],
    ['claude-3-5-haiku-latest', false],
    ['claude-test', false],
  ])('%s: %s', (id, refuses) => {
    expect(anthropicRefusesTemperatureWithTopP(id)).toBe(refuses);
  });
});

// Temperature above 1 is clamped unless the deployment is recognisably not Claude: the engine's model id is not always
// a Claude model name (Microsoft Foundry takes the deployment's own name, `model: "prod-sonnet"`; LiteLLM aliases), and
// Claude answers more than 1 with a 400 "temperature: range: 0..1", while 1 is a valid temperature for any model.
describe('anthropicDeploymentTakesTemperatureAbove1', () => {
  it.each([
    ['deepseek-v4-pro', undefined, true],
    ['deepseek-chat', 'https://api.deepseek.com/anthropic', true],
    ['my-alias', 'https://api.deepseek.com/anthropic', true],
    ['claude-sonnet-4-5', 'https://api.deepseek.com/anthropic', false],
    ['prod-sonnet', undefined, false],
    ['prod-sonnet', 'http://127.0.0.1:4000', false],
    ['prod-sonnet', 'https://my-resource.services.ai.azure.com/anthropic', false],
    ['deepseek-v4-pro', 'https://my-resource.services.ai.azure.com/anthropic', false],
    ['deepseek-v4-pro', 'https://api.anthropic.com', false],
    ['deepseek-v4-pro', 'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models', false],
    ['deepseek-v4-pro', 'https://bedrock-runtime.us-east-1.amazonaws.com', false],
    ['claude-test', undefined, false],
    ['deepseek-v4-pro', 'not a url', true],
  ] as const)('%s at %s: %s', (id, baseURL, takes) => {
    expect(anthropicDeploymentTakesTemperatureAbove1(id, baseURL)).toBe(takes);
  });

  describe('on the wire', () => {
    const { wire, engine } = useAnthropicReasoning();
    const sentTemperature = async (model: string) => {
      const parts = await collect(engine({ model }).stream({ messages: [{ role: 'user', content: 'Hi' }], temperature: 1.7 }));
      expect(parts.some((p) => p.type === 'finish')).toBe(true);
      return { sent: (wire.server.requests.at(-1)!.body as Record<string, unknown>).temperature, warnings: parts.flatMap((p) => (p.type === 'warnings' ? p.warnings : [])).map((w) => w.field) };
    };

    it('a Claude deployment under a name of its own (prod-sonnet) is sent at most 1, with a warning; deepseek-v4-pro as asked', async () => {
      expect(await sentTemperature('prod-sonnet')).toEqual({ sent: 1, warnings: ['temperature'] });
      expect(await sentTemperature('deepseek-v4-pro')).toEqual({ sent: 1.7, warnings: [] });
    });
  });
});

describe('convertToAnthropicRequest: Anthropic\u2019s sampling and text rules', () => {
  const user = [{ role: 'user' as const, content: 'Hi' }];

  it('temperature above 1 is sent as 1; temperature and topP to Sonnet 4.5 send temperature only', () => {
    const hot = convertToAnthropicRequest({ messages: user, temperature: 1.7 }, settings('claude-test'));
    expect(hot.body.temperature).toBe(1);
    expect(hot.warnings).toEqual([expect.objectContaining({ code: 'setting_changed', field: 'temperature' })]);
    expect(convertToAnthropicRequest({ messages: user, temperature: 1.7 }, settings('us.anthropic.claude-3-7-sonnet-20250219-v1:0')).body.temperature).toBe(1);
    // Another model on Anthropic's wire (DeepSeek's Anthropic API takes 0..2): as asked, no warning.
    const other = convertToAnthropicRequest({ messages: user, temperature: 1.7 }, settings('deepseek-v4-pro'));
    expect(other.body.temperature).toBe(1.7);
    expect(other.warnings ?? []).toEqual([]);
    const both = convertToAnthropicRequest({ messages: user, temperature: 0.3, topP: 0.8 }, settings('claude-sonnet-4-5'));
    expect(both.body).toMatchObject({ temperature: 0.3 });
    expect(both.body).not.toHaveProperty('top_p');
    expect(both.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'topP' })]);
    expect(convertToAnthropicRequest({ messages: user, temperature: 0.3, topP: 0.8 }, settings('claude-sonnet-4')).body).toMatchObject({ temperature: 0.3, top_p: 0.8 });
  });

  it('blank stop sequences are not sent; blank assistant text is left out; a final prefill is trimmed at its end', () => {
    expect(convertToAnthropicRequest({ messages: user, stop: ['\n', ' \t'] }, settings('claude-test')).body).not.toHaveProperty('stop_sequences');
    const mixed = convertToAnthropicRequest({ messages: user, stop: ['\n', 'END'] }, settings('claude-test'));
    expect(mixed.body.stop_sequences).toEqual(['END']);
    expect(mixed.warnings).toEqual([expect.objectContaining({ code: 'setting_changed', field: 'stop' })]);
    const turns = convertToAnthropicRequest(
      {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: '\n\n', toolCalls: [{ id: 't1', name: 'f', arguments: '{}' }] },
          { role: 'tool', toolCallId: 't1', content: 'ok' },
          { role: 'assistant', content: 'The answer is ' },
        ],
      },
      settings('claude-test'),
    );
    expect(turns.body.messages[1]!.content).toEqual([{ type: 'tool_use', id: 't1', name: 'f', input: {} }]);
    expect(turns.body.messages[3]!.content).toEqual([{ type: 'text', text: 'The answer is' }]);
    expect(turns.warnings).toEqual([expect.objectContaining({ code: 'setting_changed', field: 'messages.3.content' })]);
    // An earlier assistant turn keeps its trailing white space: only the final one is a prefill.
    const earlier = convertToAnthropicRequest({ messages: [...user, { role: 'assistant', content: 'Sure. ' }, { role: 'user', content: 'Go' }] }, settings('claude-test'));
    expect(earlier.body.messages[1]!.content).toEqual([{ type: 'text', text: 'Sure. ' }]);
    expect(earlier.warnings).toBeUndefined();
  });
});
