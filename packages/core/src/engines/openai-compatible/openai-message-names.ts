import type { ChatMessage } from '../../spec/messages.js';
import { LLMError } from '../../errors/llm-error.js';

/**
 * OpenAI's characters for a message's author `name`: letters, digits, `_` and `-` (its 400 "'J@ck' does not match
 * '^[a-zA-Z0-9_-]{1,64}$' - 'messages.0.name'"). No length cap here: the 64 in that pattern is from older answers and
 * not confirmed for current models, so a longer name goes to OpenAI, which decides.
 */
export const OPENAI_MESSAGE_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;

/**
 * Refuses a system, user or assistant message's author `name` that OpenAI and Azure OpenAI refuse
 * (`ResolvedEndpoint.checkMessageNames`), before the call: `unsupported` (a 400) naming `messages.N.name` (which the
 * gateway names as the client's message), never the upstream's 400. `unsupported`, not `invalid_request`: the request
 * is not wrong, this deployment cannot take it, so a router falls over to its next deployment (another server takes
 * any name; Anthropic and Gemini leave it out with a warning), and answers this error when none is left. Other
 * servers get any name as it is.
 */
export function checkOpenAIMessageNames(messages: readonly ChatMessage[], label: string): void {
  messages.forEach((m, i) => {
    // An empty name is not sent (`convertToOpenAIMessages`): nothing to refuse.
    if (m.role === 'tool' || !m.name || OPENAI_MESSAGE_NAME_PATTERN.test(m.name)) return;
    const param = `messages.${i}.name`;
    throw new LLMError({
      code: 'unsupported',
      message: `${param}: ${JSON.stringify(m.name.length > 100 ? `${m.name.slice(0, 100)}...` : m.name)} is not a name ${label} takes (letters, digits, _ or - only)`,
      param,
      provider: 'openai-compatible',
    });
  });
}
