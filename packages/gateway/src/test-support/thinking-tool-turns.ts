import type Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireServer } from '@llmrr/core/test';

// The two-turn extended thinking + tool loop of the thinking-block tests (weather in Paris): a signed thinking
// block, a redacted one, the tool call, and the turns a client sends.

export const THINKING = 'The user wants the weather in Paris. I will call get_weather.';
export const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds';
export const REDACTED = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP';
export const toolUse = { type: 'tool_use' as const, id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } };

/** The first turn: question `q` to deployment `claude` with thinking on and the get_weather tool. */
export function weatherTurn(q: string) {
  return {
    model: 'claude',
    max_tokens: 4000,
    thinking: { type: 'enabled' as const, budget_tokens: 2048 },
    tools: [{ name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
    messages: [{ role: 'user' as const, content: q }] as Anthropic.MessageParam[],
  };
}

/** The next turn: the answer's content given back as it came, then the tool result. */
export function nextWeatherTurn(q: string, answer: Anthropic.Message, result: string): ReturnType<typeof weatherTurn> {
  const call = answer.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
  const b = weatherTurn(q);
  b.messages.push({ role: 'assistant', content: answer.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: result }] });
  return b;
}

/** The assistant message (the second) of the `i`-th request the upstream got. */
export function upstreamAssistant(up: AnthropicWireServer, i: number): { role: string; content: unknown } | undefined {
  return (up.requests[i]!.body!.messages as Array<{ role: string; content: unknown }>)[1];
}
