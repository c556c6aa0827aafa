import type { EngineRefusal } from '../../spec/engine-v1.js';
import type { ChatMessage } from '../../spec/messages.js';
import { LLMError } from '../../errors/llm-error.js';

/**
 * OpenAI's characters for a message's author `name`: letters, digits, `_` and `-` (its 400 "'J@ck' does not match
 * '^[a-zA-Z0-9_-]{1,64}$' - 'messages.0.name'"). No length cap here: the 64 in that pattern is from older answers and
 * not confirmed for current models, so a longer name goes to OpenAI, which decides.
 */
export const OPENAI_MESSAGE_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;

/**
 * The refusal of a system, user or assistant message's author `name` that OpenAI and Azure OpenAI refuse
 * (`ResolvedEndpoint.checkMessageNames`), naming `messages.N.name` (which the gateway names as the client's
 * message), else undefined. A router asks it while planning (`LanguageEngineV1.refusal`): no attempt is made, nothing
 * is charged against the deployment's limits, and the request goes to its next deployment (another server takes any
 * name; Anthropic and Gemini leave it out with a warning), or is answered `unsupported` (a 400) when none is left.
 * `unsupported`, not `invalid_request`: the request is not wrong, this deployment cannot take it. Other servers get
 * any name as it is.
 */
export function openAIMessageNameRefusal(messages: readonly ChatMessage[], label: string): EngineRefusal | undefined {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    // An empty name is not sent (`convertToOpenAIMessages`): nothing to refuse.
    if (m.role === 'tool' || !m.name || OPENAI_MESSAGE_NAME_PATTERN.test(m.name)) continue;
    const param = `messages.${i}.name`;
    return { param, message: `${param}: ${JSON.stringify(m.name.length > 100 ? `${m.name.slice(0, 100)}...` : m.name)} is not a name ${label} takes (letters, digits, _ or - only)` };
  }
  return undefined;
}

/** `openAIMessageNameRefusal` thrown, before the call (an engine used without a router), never the upstream's 400. */
export function checkOpenAIMessageNames(messages: readonly ChatMessage[], label: string): void {
  const refusal = openAIMessageNameRefusal(messages, label);
  if (refusal) throw new LLMError({ code: 'unsupported', message: refusal.message, param: refusal.param, provider: 'openai-compatible' });
}
