import type { ChatMessage } from '../../spec/messages.js';
import type { CallWarning } from '../../spec/warnings.js';

/**
 * `setting_not_sent` for what the tool messages carry that an engine sending a tool result as text cannot send
 * (it sends each message's `content`): each image of their `parts` (`messages.N.parts.K`), and,
 * where the provider has no error flag (`sendsIsError` false), an `isError: true` (`messages.N.isError`). Pushed
 * onto `into` (created on the first), which is returned; untouched when there is nothing to say.
 */
export function toolResultWarnings(messages: readonly ChatMessage[], engine: string, sendsIsError: boolean, into: CallWarning[] | undefined): CallWarning[] | undefined {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role !== 'tool') continue;
    if (Array.isArray(m.parts)) {
      m.parts.forEach((part, k) => {
        if (part?.type !== 'image') return;
        const field = `messages.${i}.parts.${k}`;
        (into ??= []).push({ code: 'setting_not_sent', field, message: `${field} (an image) was not sent: the ${engine} engine sends a tool result's text only.` });
      });
    }
    if (m.isError === true && !sendsIsError) {
      const field = `messages.${i}.isError`;
      (into ??= []).push({ code: 'setting_not_sent', field, message: `${field} was not sent: the ${engine} engine has no error flag on a tool result; its text went as the result.` });
    }
  }
  return into;
}
