import type { GenerateResult } from '../../spec/engine-v1.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { StreamPart } from '../../spec/stream-parts.js';
import { ENDS_ON_ABORT, endsOnAbort } from '../../util/sse-part-stream.js';
import { askedPrefillIndex } from './openai-prefill.js';
import type { ResolvedEndpoint } from './resolve-endpoint.js';

/**
 * The prefill a `prefix` server echoes, or undefined: the asked prefill's text when the body went out with
 * `prefix: true` on it (`addPrefill`, the caller's `providerOptions` not replacing it) to a server that repeats it
 * (`endpoint.prefillEcho`). Mistral's answer to a `prefix: true` message starts with that message's content
 * (SillyTavern#2557, vercel/ai#3256), while a client that sent a prefill (Anthropic's Messages API) expects only the
 * continuation. Not for a server that answers with the continuation alone (DeepSeek): a continuation that starts with
 * the prefill's own text is its answer. Not when the body asked for logprobs: their tokens would no longer make up the
 * text.
 */
export function prefillEcho(request: GenerateRequest, body: Record<string, unknown>, endpoint: ResolvedEndpoint): string | undefined {
  if (!endpoint.prefillEcho || body.logprobs === true) return undefined;
  const at = askedPrefillIndex(request);
  if (at === undefined) return undefined;
  const sent = (body.messages as Array<Record<string, unknown>> | undefined)?.[at];
  const text = request.messages[at]!.content;
  return sent?.prefix === true && typeof text === 'string' ? text : undefined;
}

/** The answer without a leading copy of `echo` (an answer that does not start with it is kept whole). */
export function stripPrefillEcho(result: GenerateResult, echo: string | undefined): GenerateResult {
  if (echo !== undefined && result.text.startsWith(echo)) result.text = result.text.slice(echo.length);
  return result;
}

/**
 * The stream without a leading copy of the prefill (`echo()`, read at the first answer text, once the body is built):
 * answer text is held back while it is still a beginning of the prefill, and released, less the prefill, once it has
 * passed the prefill's length, or whole as soon as it diverges or any other part comes (a part after answer text, the
 * end included, never overtakes it), except an `error`: a stream cut while text is held drops it (only a beginning of
 * the prefill, never shown as answer). Other parts pass as they come.
 */
export function stripStreamPrefillEcho(parts: AsyncIterableIterator<StreamPart>, echo: () => string | undefined): AsyncIterableIterator<StreamPart> {
  let held = '';
  let decided = false;
  const queue: StreamPart[] = [];
  const release = (text: string) => {
    decided = true;
    held = '';
    if (text !== '') queue.push({ type: 'text-delta', delta: text });
  };
  const take = (part: StreamPart) => {
    if (part.type === 'text-delta' && part.refusal !== true) {
      const prefill = echo();
      if (prefill === undefined) decided = true;
      else {
        held += part.delta;
        if (held.length >= prefill.length) release(held.startsWith(prefill) ? held.slice(prefill.length) : held);
        else if (!prefill.startsWith(held)) release(held);
        return;
      }
    } else if (part.type === 'error') {
      // Cut while held: the held text is a strict beginning of the prefill (the client's own text), never answer text.
      decided = true;
      held = '';
    } else if (held !== '') release(held);
    queue.push(part);
  };
  const next = async (): Promise<IteratorResult<StreamPart>> => {
    while (queue.length === 0) {
      const r = await parts.next();
      if (r.done) {
        if (held !== '') release(held);
        if (queue.length === 0) return r;
        break;
      }
      if (decided) return r;
      take(r.value);
    }
    return { done: false, value: queue.shift()! };
  };
  const iterator: AsyncIterableIterator<StreamPart> & { [ENDS_ON_ABORT]?: boolean } = {
    next,
    return: (value?: unknown) => (parts.return ? parts.return(value) : Promise.resolve({ done: true, value: undefined })),
    [Symbol.asyncIterator]: () => iterator,
  };
  if (endsOnAbort(parts)) iterator[ENDS_ON_ABORT] = true;
  return iterator;
}
