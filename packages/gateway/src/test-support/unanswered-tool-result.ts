import type Anthropic from '@anthropic-ai/sdk';

/**
 * /v1/messages turns whose last user turn answers the tool call `t1` and then a call that was never made (`t9`,
 * its second block): the question, the assistant's tool_use, the user's two tool_result blocks. An engine that
 * needs the call of each result (Gemini: the function's name) refuses the second block.
 */
export const UNANSWERED_TOOL_RESULT: [Anthropic.MessageParam, Anthropic.MessageParam, Anthropic.MessageParam] = [
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'get_weather', input: { city: 'Paris' } }] },
  {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 't1', content: 'Sunny' },
      { type: 'tool_result', tool_use_id: 't9', content: 'Rainy' },
    ],
  },
];
