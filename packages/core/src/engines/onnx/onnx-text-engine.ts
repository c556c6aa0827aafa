import { randomInt } from 'node:crypto';
import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type {
  CallOptions,
  EngineCapabilities,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageEngineV1,
  StreamPart,
} from '../../spec/index.js';
import { makeUsage } from '../../spec/usage.js';
import { anySignal } from '../../util/abort.js';
import { generateFromStream } from '../shared/generate-from-stream.js';
import { localRequestWarnings } from '../shared/local-request-warnings.js';
import { StopSequenceFilter } from '../shared/stop-sequence-filter.js';
import { buildFeeds } from './graph-feeds.js';
import { IncrementalDecoder } from './incremental-decoder.js';
import { OnnxEngineBase, promptText } from './onnx-engine-base.js';
import type { LoadedOnnx } from './onnx-loader.js';
import { resolveSampling } from './onnx-request.js';
import { sampleToken, seededRandom } from './sampling.js';
import { PendingLogprobs } from './pending-logprobs.js';
import { tokenLogprob } from './token-logprob.js';

/** How many earlier answer tokens a top candidate decodes after (its leading space depends on them). */
const CANDIDATE_WINDOW = 32;

/**
 * Token texts for `tokenLogprob`: the chosen `token`'s is `added` (what it added to the decoded answer); a top
 * candidate's is what it would add after the answer so far (`answer`, the generated ids before `token`), decoded
 * with up to `CANDIDATE_WINDOW` tokens before it (decoded only when a candidate is asked for).
 */
function candidateText(decode: (ids: readonly number[]) => string, answer: readonly number[], token: number, added: string): (id: number) => string {
  let context: readonly number[] | undefined;
  let before = '';
  return (id) => {
    if (id === token) return added;
    if (context === undefined) {
      context = answer.slice(-CANDIDATE_WINDOW);
      before = decode(context);
    }
    if (context.length === 0) return decode([id]);
    const withIt = decode([...context, id]);
    return withIt.startsWith(before) ? withIt.slice(before.length) : decode([id]);
  };
}

/** What the engine applies of the request (the rest gets a warning: `localRequestWarnings`). */
const ONNX_DOES = { penalties: false, topK: true, logprobs: true } as const;

/**
 * The `onnx` engine for decoder-only text generation. Each step runs the whole graph on the whole
 * sequence (no KV cache) and samples the next token from the last position's logits, so it suits
 * small models. Tokens stream one per step; usage is exact (prompt ids from the tokenizer, one output
 * token per step, the end token included). With `request.logprobs`, each generated token's log probability
 * (and its `topLogprobs` most likely alternatives) comes from the same logits (`tokenLogprob`); a token's `token`
 * is the text it adds to the answer (a character split across tokens goes to the token that completes it), and it
 * goes in a `logprobs` part right after the `text-delta` that sends the last of that text (text held back as a
 * possible stop sequence waits, and its tokens with it). The end token is not listed, nor the tokens of a stop
 * sequence that ended the answer (one the stop began inside is listed with the text before the stop): joined, the
 * listed tokens are the text.
 */
export class OnnxTextEngine extends OnnxEngineBase implements LanguageEngineV1 {
  readonly capabilities: EngineCapabilities = { streaming: true };

  /** The streamed answer folded, with the request's warnings (`localRequestWarnings`) when there are any. */
  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    const result = await generateFromStream(this.stream(request, options), this.modelId, this.errorContext);
    const warnings = localRequestWarnings(request, 'onnx', ONNX_DOES);
    if (warnings) result.warnings = warnings;
    return result;
  }

  async *stream(request: GenerateRequest, options: CallOptions = {}): AsyncGenerator<StreamPart> {
    const signal = options.signal;
    const controller = new AbortController();
    const runSignal = anySignal([signal, controller.signal]) ?? controller.signal;
    this.running.add(controller);
    try {
      if (signal?.aborted) throw signal.reason;
      const sampling = resolveSampling(request, this.options);
      const loaded = await this.loaded(runSignal);
      const prompt = this.encodeChecked(loaded, promptText(request.messages), 'messages');
      if (prompt.length >= this.contextSize) {
        throw new LLMError({
          code: 'context_length_exceeded',
          message: `The prompt is ${prompt.length} tokens and leaves no room to generate within ${this.contextSize} (options.contextSize)`,
          param: 'messages',
          ...this.errorContext,
        });
      }
      const warnings = localRequestWarnings(request, 'onnx', ONNX_DOES);
      if (warnings) yield { type: 'warnings', warnings };
      yield { type: 'response-metadata', model: this.modelId };

      const { tokenizer } = loaded;
      const random = seededRandom(sampling.seed ?? randomInt(2 ** 31));
      const decoder = new IncrementalDecoder(tokenizer.decode);
      const stops = new StopSequenceFilter(sampling.stop);
      const ids = [...prompt];
      const top = request.logprobs === undefined ? -1 : (request.logprobs.topLogprobs ?? 0);
      const pending = new PendingLogprobs();
      let generated = 0;
      let finishReason: FinishReason = 'length';
      while (generated < sampling.maxTokens && ids.length < this.contextSize && !runSignal.aborted) {
        const logits = await this.nextLogits(loaded, ids);
        if (runSignal.aborted) break;
        const token = sampleToken(logits, sampling, random);
        generated++;
        if (tokenizer.eosIds.has(token)) {
          finishReason = 'stop';
          break;
        }
        const answer = ids.slice(prompt.length);
        ids.push(token);
        const added = decoder.push(token);
        const entry = top >= 0 ? tokenLogprob(logits, token, top, candidateText(tokenizer.decode, answer, token, added)) : undefined;
        if (entry) pending.add(entry);
        const delta = stops.push(added);
        if (delta !== '') yield { type: 'text-delta', delta };
        // A token that added no text yet (part of a split character) waits for the text it leads to, or for the
        // decoder's leftover at the end, so the listed tokens joined are always the text sent.
        if (entry && (delta !== '' || stops.stopped)) {
          const released = stops.stopped ? [...pending.release(delta.length), ...pending.end()] : pending.release(delta.length);
          if (released.length > 0) yield { type: 'logprobs', logprobs: released };
        }
        if (stops.stopped) {
          finishReason = 'stop';
          break;
        }
      }
      const usage = makeUsage(prompt.length, generated);
      if (runSignal.aborted) {
        // What the stopped generation used so far, for metering; then the abort itself.
        yield { type: 'usage', usage };
        throw signal?.aborted ? signal.reason : controller.signal.reason;
      }
      const tail = decoder.flush();
      pending.appendToLast(tail);
      const rest = stops.push(tail) + stops.flush();
      if (rest !== '') yield { type: 'text-delta', delta: rest };
      if (top >= 0) {
        const released = [...pending.release(rest.length), ...pending.end()];
        if (released.length > 0) yield { type: 'logprobs', logprobs: released };
      }
      yield { type: 'finish', finishReason, usage, ...(stops.matched !== undefined ? { stopSequence: stops.matched } : {}) };
    } catch (e) {
      const error = signal?.aborted ? abortError(signal, this.errorContext) : toLLMError(e, this.errorContext);
      yield { type: 'error', error };
    } finally {
      this.running.delete(controller);
    }
  }

  /** Logits of the last position after running the graph on `ids`. */
  private async nextLogits(loaded: LoadedOnnx, ids: readonly number[]): Promise<Float32Array> {
    const { feeds } = buildFeeds(loaded.ort, loaded.io, [ids], loaded.tokenizer.padId);
    const out = await this.runGraph(loaded, feeds);
    const logits = out[loaded.io.output];
    const dims = logits?.dims ?? [];
    const data = logits?.data;
    const vocab = dims[dims.length - 1] ?? 0;
    const rows = dims.length === 3 ? (dims[1] ?? 0) : 1;
    const ok = data instanceof Float32Array && vocab > 0 && (dims.length === 2 || dims.length === 3) && dims[0] === 1 && data.length === rows * vocab;
    if (!ok) {
      throw new LLMError({
        code: 'invalid_response',
        message: `ONNX output "logits" has shape [${dims.join(', ')}] (${logits?.type ?? 'missing'}); expected float32 [batch, seq, vocab] or [batch, vocab]`,
        isRetryable: false,
        ...this.errorContext,
      });
    }
    return data.subarray((rows - 1) * vocab, rows * vocab);
  }
}
