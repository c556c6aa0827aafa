import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';

// Found in review of commit 877e737, fixed since: reasoning -> thinking, against a wire server that checks thinking blocks as the
// real API does.

const { wire, engine } = useAnthropicReasoning({ checkThinkingBlocks: true });

const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];

describe('anthropic thinking: requests the API would refuse', () => {
  // A tool loop whose last assistant turn has no signed reasoning (it came through the OpenAI chat wire, which
  // cannot carry signatures, or from another provider) is sent with `thinking: enabled`: Anthropic answers 400
  // "Expected `thinking` or `redacted_thinking`, but found `tool_use`". Thinking could be left off for that request
  // (LiteLLM drops it: last_assistant_with_tool_calls_has_no_thinking_blocks).
  it('effort with a tool turn that has no thinking blocks: the call succeeds', async () => {
    wire.server.enqueue({ content: 'Sunny.' });
    const request: GenerateRequest = {
      reasoning: { effort: 'medium' },
      tools,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
        { role: 'tool', toolCallId: 'toolu_1', content: '18C' },
      ],
    };
    const result = await engine()
      .generate(request)
      .catch((e: unknown) => e);
    expect(result instanceof Error ? result.message : 'ok').toBe('ok');
  });

  // The effort -> budget table is the engine's own (high -> 4096). An OpenAI-style caller (chat reasoning_effort
  // "high" with max_completion_tokens 3000, where the limit covers reasoning too) is refused, though Anthropic
  // takes any budget from 1024 up to max_tokens - 1: the table budget could be fitted under maxTokens.
  it('effort high with maxTokens 3000: sent, with a budget below 3000', async () => {
    wire.server.enqueue({ content: 'ok' });
    const result = await engine()
      .generate({ messages: [{ role: 'user', content: 'Think' }], reasoning: { effort: 'high' }, maxTokens: 3000 })
      .catch((e: unknown) => e);
    expect(result instanceof Error ? result.message : 'ok').toBe('ok');
    const thinking = wire.server.requests[0]?.body?.thinking as { budget_tokens?: number } | undefined;
    expect(thinking?.budget_tokens).toBeLessThan(3000);
  });

  // `maxOutputTokens` is the deployment's "most output tokens per call" (the model's cap, e.g. 64000 for Claude
  // Sonnet 4) and the engine's default max_tokens. With thinking on and no maxTokens the engine sends
  // budget + maxOutputTokens, above the model's cap: Anthropic answers 400 ("max_tokens: 68096 > 64000, which is
  // the maximum allowed number of output tokens"). It should stay within maxOutputTokens (budget below it).
  it('effort high, no maxTokens, maxOutputTokens 8192: max_tokens stays within 8192', async () => {
    wire.server.enqueue({ content: 'ok' });
    await engine({ maxOutputTokens: 8192 }).generate({ messages: [{ role: 'user', content: 'Think' }], reasoning: { effort: 'high' } });
    const body = wire.server.requests[0]!.body as { max_tokens: number; thinking: { budget_tokens: number } };
    expect(body.max_tokens).toBeLessThanOrEqual(8192);
    expect(body.thinking.budget_tokens).toBeLessThan(body.max_tokens);
  });
});
