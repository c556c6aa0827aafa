import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type {
  CallOptions,
  EngineCapabilities,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageEngineV1,
  ModelPrice,
  StreamPart,
  TokenLogprob,
  Usage,
} from '../../spec/index.js';
import { makeUsage } from '../../spec/usage.js';
import { anySignal, raceAbort } from '../../util/abort.js';
import { generateFromStream } from '../shared/generate-from-stream.js';
import { localRequestWarnings } from '../shared/local-request-warnings.js';
import { capacityRefusal } from '../shared/capacity-refusal.js';
import { checkModelPath, requireModelPath } from '../shared/require-model-path.js';
import { StopSequenceFilter } from '../shared/stop-sequence-filter.js';
import type { EngineContext } from '../types.js';
import { AsyncQueue } from './async-queue.js';
import { CallSlots } from './call-slots.js';
import { AnswerDecoder } from './gguf-answer-decoder.js';
import { GgufGrammars } from './gguf-grammar.js';
import { GgufLoader, type LoadedGguf } from './gguf-loader.js';
import { parseGgufOptions, type GgufOptions } from './gguf-options.js';
import { buildPrompt, type GgufPrompt } from './gguf-prompt.js';
import { ggufRepeatPenalty, resolveSampling, type GgufSampling } from './gguf-request.js';
import { ggufCapabilities } from './gguf-capabilities.js';
import { ggufLogprobs } from './gguf-logprobs.js';
import { SamplingEnded, watchSampledTokens } from './gguf-sampled-tokens.js';

/** What the engine applies of the request's sampling fields (the rest gets a warning: `localRequestWarnings`). */
const GGUF_DOES = { penalties: true, topK: true, logprobs: true } as const;

/** `Retry-After` of a call refused past `options.maxQueued`: a slot frees up as soon as one generation ends. */
const OVERLOADED_RETRY_AFTER_MS = 1000;

interface RunResult {
  finishReason: FinishReason;
  /** The request's stop sequence the answer ended on (`finishReason` is then 'stop'). */
  stopSequence?: string;
  usage: Usage;
  /** With `request.logprobs`: the answer's tokens and their log probabilities (`ggufLogprobs`). */
  logprobs?: TokenLogprob[];
}

function finishReasonOf(stopReason: NodeLlamaCpp.LlamaCompletionResponse['metadata']['stopReason']): FinishReason {
  return stopReason === 'maxTokens' ? 'length' : stopReason === 'abort' ? 'other' : 'stop';
}

/**
 * The `gguf` engine: a local GGUF model run by node-llama-cpp on the CPU. The model loads once, on
 * first use; every request gets its own context and sequence, disposed when it ends, so requests share
 * nothing but the weights. At most `options.maxConcurrency` requests generate at once (their contexts are the
 * memory), up to `options.maxQueued` more wait their turn, and one past them is refused (`overloaded`). Usage is exact: the prompt is tokenized by the model's tokenizer and the
 * output count is node-llama-cpp's token meter (tokens sampled, end-of-generation token included).
 * `logprobs` are the model's probabilities of the tokens it sampled, from a second, teacher-forced pass over the
 * answer once it is done (`ggufLogprobs`), so a stream that asks for them holds its text and sends it whole at the
 * end, followed by its `logprobs` part (an aborted stream sends neither).
 */
export class GgufEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1' as const;
  readonly provider = 'gguf';
  /** `countTokens` uses the model's own tokenizer and chat template. */
  readonly countTokensExact = true;
  /** `countTokens` does no network I/O. */
  readonly countTokensRemote = false;
  readonly modelId: string;
  readonly capabilities: EngineCapabilities = { streaming: true, json: true };
  /** Local inference costs nothing per token. */
  readonly price: ModelPrice = { input: 0, output: 0 };
  readonly options: GgufOptions;
  private readonly deployment: string;
  private readonly loader: GgufLoader;
  private grammars: GgufGrammars | undefined;
  /** `options.maxConcurrency` generations at once, `options.maxQueued` waiting (see `CallSlots`). */
  private readonly slots: CallSlots;
  /** Calls in progress: close() aborts their controller and waits for their generation (`done`, once it runs). */
  private readonly running = new Set<{ controller: AbortController; done?: Promise<unknown> }>();
  private closed = false;

  constructor(model: ModelConfig, ctx: EngineContext) {
    this.deployment = model.name;
    this.modelId = model.model ?? model.name;
    this.options = parseGgufOptions(model);
    const { path, configuredPath } = requireModelPath(model, ctx, 'gguf', '.gguf');
    this.loader = new GgufLoader({ path, configuredPath, deployment: model.name, options: this.options });
    // Busy, not failing: a router moves on to its next deployment at once and strikes no circuit (`capacityRefusal`).
    this.slots = new CallSlots(this.options.maxConcurrency, this.options.maxQueued, (running, waiting) =>
      capacityRefusal(
        new LLMError({
          code: 'overloaded',
          message: `The gguf model "${this.deployment}" is busy: ${running} calls running and ${waiting} waiting (options.maxConcurrency ${this.options.maxConcurrency}, options.maxQueued ${this.options.maxQueued}); try again later`,
          retryAfterMs: OVERLOADED_RETRY_AFTER_MS,
          ...this.errorContext,
        }),
      ),
    );
  }

  private get errorContext(): { provider: string; deployment: string } {
    return { provider: 'gguf', deployment: this.deployment };
  }

  private closedError(): LLMError {
    return new LLMError({ code: 'shutting_down', message: `The gguf engine of "${this.deployment}" is closed`, ...this.errorContext });
  }

  private async loaded(signal?: AbortSignal): Promise<LoadedGguf> {
    if (this.closed) throw this.closedError();
    const loaded = await raceAbort(this.loader.get(), signal);
    if (this.closed) throw this.closedError(); // closed while loading: the model is being disposed
    this.grammars ??= new GgufGrammars(loaded.llama);
    return loaded;
  }

  /** Exact prompt length in tokens, as the model will see it (chat template and BOS included). Loads the model. */
  async countTokens(request: GenerateRequest): Promise<number> {
    try {
      return buildPrompt(await this.loaded(), request.messages).inputTokens;
    } catch (e) {
      throw toLLMError(e, this.errorContext);
    }
  }

  /** The streamed answer folded, with the request's warnings (`localRequestWarnings`) when there are any. */
  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    const result = await generateFromStream(this.stream(request, options), this.modelId, this.errorContext);
    const warnings = localRequestWarnings(request, 'gguf', GGUF_DOES);
    if (warnings) result.warnings = warnings;
    return result;
  }

  async *stream(request: GenerateRequest, options: CallOptions = {}): AsyncGenerator<StreamPart> {
    const signal = options.signal;
    const controller = new AbortController();
    const runSignal = anySignal([signal, controller.signal]) ?? controller.signal;
    // Registered first, so that close() stops the call at any point (while loading, between yields, generating).
    const entry: { controller: AbortController; done?: Promise<RunResult> } = { controller };
    this.running.add(entry);
    // The slot is given back once: when the generation is over (its context disposed), or at the end if it never ran.
    let slot = false;
    const release = (): void => {
      if (!slot) return;
      slot = false;
      this.slots.release();
    };
    try {
      if (signal?.aborted) throw signal.reason;
      const sampling = resolveSampling(request, this.options);
      const loaded = await this.loaded(runSignal);
      const prompt = buildPrompt(loaded, request.messages);
      if (prompt.inputTokens >= loaded.contextSize) {
        throw new LLMError({
          code: 'context_length_exceeded',
          message: `The prompt is ${prompt.inputTokens} tokens but the context of "${this.deployment}" holds ${loaded.contextSize} (options.contextSize); shorten the prompt or raise contextSize`,
          param: 'messages',
          ...this.errorContext,
        });
      }
      const grammar = await raceAbort(this.grammars?.get(request.responseFormat) ?? Promise.resolve(undefined), runSignal);
      // A slot before anything is sent: a call refused as overloaded has not started (a router falls over).
      const turn = this.slots.acquire(runSignal);
      slot = true;
      if (turn) {
        slot = false;
        await turn;
        slot = true;
      }
      const warnings = localRequestWarnings(request, 'gguf', GGUF_DOES);
      if (warnings) yield { type: 'warnings', warnings };
      yield { type: 'response-metadata', model: this.modelId };

      // close() may have come while the consumer held the stream at a yield: the model is then disposed.
      if (runSignal.aborted) throw runSignal.reason;
      if (this.closed) throw this.closedError();
      const queue = new AsyncQueue<string>();
      const top = request.logprobs === undefined ? undefined : (request.logprobs.topLogprobs ?? 0);
      const done = this.run(loaded, prompt, sampling, grammar, runSignal, (chunk) => queue.push(chunk), top);
      entry.done = done;
      // The slot is free as soon as the context is gone, not when a slow consumer has read the last part.
      const over = (): void => {
        release();
        queue.close();
      };
      done.then(over, over);
      // With logprobs the text is held and sent whole once they are known (they come from a second pass over the
      // answer, `ggufLogprobs`): one text-delta, then the logprobs part of its tokens.
      let held = '';
      for await (const delta of queue) {
        if (runSignal.aborted) break;
        if (delta === '') continue;
        if (top === undefined) yield { type: 'text-delta', delta };
        else held += delta;
      }
      const result = await done;
      const aborted = signal?.aborted ? signal : controller.signal.aborted ? controller.signal : undefined;
      if (aborted) {
        // What the stopped generation used so far, for metering; then the abort itself (held text is not sent).
        yield { type: 'usage', usage: result.usage };
        throw aborted.reason;
      }
      if (held !== '') yield { type: 'text-delta', delta: held };
      if (result.logprobs && result.logprobs.length > 0) yield { type: 'logprobs', logprobs: result.logprobs };
      yield {
        type: 'finish',
        finishReason: result.finishReason,
        usage: result.usage,
        ...(result.stopSequence !== undefined ? { stopSequence: result.stopSequence } : {}),
      };
    } catch (e) {
      // After close(), whatever failed (the model disposed under the call) is the closed engine's error.
      const error = signal?.aborted ? abortError(signal, this.errorContext) : this.closed ? this.closedError() : toLLMError(e, this.errorContext);
      yield { type: 'error', error };
    } finally {
      // Also reached when the consumer stops early: stop the generation and free its context.
      controller.abort();
      await entry.done?.catch(() => undefined);
      this.running.delete(entry);
      release();
    }
  }

  /**
   * One generation in a fresh context; the context is disposed whatever happens. The answer's text is decoded here,
   * token by token as the sampler chooses them (`watchSampledTokens`, `AnswerDecoder`: after the prompt's end, so the
   * first token keeps its leading space), and the request's stop strings are matched on it (`StopSequenceFilter`),
   * not by node-llama-cpp: its stop triggers hold back the tokens that could begin a stop and drop them when the
   * answer ends at `maxTokens`, a SentencePiece stop with a space in it never triggers, and it hands a token on only
   * with the next one when its text ends inside a split character. A match ends the answer at the token that
   * completed the stop (finishReason 'stop'); the text before it is sent, the held-back tail is sent when the
   * generation ends without one. maxTokens is counted here too, so no token is sampled past it (node-llama-cpp's own
   * count skips a token whose text ends in U+FFFD). The template's end-of-turn triggers and the end-of-generation
   * token stay node-llama-cpp's: the text is sent only as far as it has let the answer's tokens through (`onToken`).
   */
  private async run(
    loaded: LoadedGguf,
    prompt: GgufPrompt,
    sampling: GgufSampling,
    grammar: NodeLlamaCpp.LlamaGrammar | undefined,
    signal: AbortSignal,
    onTextChunk: (text: string) => void,
    top?: number,
  ): Promise<RunResult> {
    const { lib, model, contextSize } = loaded;
    const repeatPenalty = ggufRepeatPenalty(sampling, contextSize);
    let context: NodeLlamaCpp.LlamaContext;
    try {
      context = await model.createContext({ contextSize, threads: this.options.threads, sequences: 1 });
    } catch (e) {
      if (e instanceof lib.InsufficientMemoryError) {
        throw new LLMError({ code: 'overloaded', message: `Not enough memory for a ${contextSize}-token context: ${e.message}`, cause: e, ...this.errorContext });
      }
      throw e;
    }
    try {
      const sequence = context.getSequence();
      const completion = new lib.LlamaCompletion({ contextSequence: sequence });
      const promptTokens = prompt.beginning !== null ? [prompt.beginning, ...prompt.body] : prompt.body;
      const decoder = new AnswerDecoder(model, promptTokens);
      const stops = new StopSequenceFilter(sampling.stop);
      const stopped = new AbortController();
      // As node-llama-cpp caps an answer with context shift off: at maxTokens, or where the context ends.
      const cap = Math.min(sampling.maxTokens, contextSize - prompt.inputTokens);
      const sampled: NodeLlamaCpp.Token[] = [];
      // ends[i]: the length of the decoded answer once sampled[i] is in. `kept` is the part the stop filter let
      // through; `sent` how much of it is sent (no further than the tokens node-llama-cpp has let through: `released`).
      const ends: number[] = [];
      const released: NodeLlamaCpp.Token[] = [];
      let decoded = 0;
      let kept = '';
      let sent = 0;
      let capped = false;
      const sendUpTo = (limit: number) => {
        const upTo = Math.min(limit, kept.length);
        if (upTo > sent) onTextChunk(kept.slice(sent, upTo));
        sent = Math.max(sent, upTo);
      };
      watchSampledTokens(sequence, (token) => {
        sampled.push(token);
        const piece = decoder.push(token);
        decoded += piece.length;
        ends.push(decoded);
        kept += stops.push(piece);
        capped = !stops.stopped && sampled.length >= cap && !model.isEogToken(token);
        if (!stops.stopped && !capped) return true;
        stopped.abort(); // node-llama-cpp looks at the signal right after this token
        return false;
      });
      let response: NodeLlamaCpp.LlamaCompletionResponse | undefined;
      try {
        response = await completion.generateCompletionWithMeta(prompt.body, {
          onToken: (tokens) => {
            released.push(...tokens);
            sendUpTo(ends[Math.min(released.length, ends.length) - 1] ?? 0);
          },
          signal: anySignal([signal, stopped.signal]) ?? stopped.signal,
          stopOnAbortSignal: true,
          maxTokens: sampling.maxTokens,
          temperature: sampling.temperature,
          ...(sampling.topP !== undefined ? { topP: sampling.topP } : {}),
          ...(sampling.topK !== undefined ? { topK: sampling.topK } : {}),
          ...(sampling.seed !== undefined ? { seed: sampling.seed } : {}),
          ...(repeatPenalty ? { repeatPenalty } : {}),
          ...(grammar ? { grammar } : {}),
          customStopTriggers: prompt.stopTriggers,
          // A stateless call stops at the end of its context ('length') instead of dropping the prompt's start.
          disableContextShift: true,
          contextShiftSize: 1,
        });
      } catch (e) {
        if (!(e instanceof SamplingEnded)) throw e;
      }
      kept += stops.flush();
      const stopReason = response?.metadata.stopReason;
      const ownEnd = stopReason === 'eogToken' || stopReason === 'stopGenerationTrigger' || stopReason === 'customStopTrigger';
      // Ended by node-llama-cpp's own trigger: the text is no more than it let through (the trigger's is not the answer's).
      sendUpTo(ownEnd ? decoder.whole(released).length : kept.length);
      const result: RunResult = {
        finishReason: stops.stopped ? 'stop' : capped ? 'length' : finishReasonOf(stopReason ?? 'maxTokens'),
        usage: makeUsage(prompt.inputTokens, sequence.tokenMeter.usedOutputTokens),
      };
      if (stops.matched !== undefined) result.stopSequence = stops.matched;
      if (top !== undefined && !signal.aborted) {
        const logprobs = await ggufLogprobs(model, sequence, promptTokens, sampled, kept.slice(0, sent), top, signal);
        if (logprobs) result.logprobs = logprobs;
      }
      return result;
    } finally {
      await context.dispose();
    }
  }

  /** Stops running generations, then disposes the model and the llama instance. Later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.running];
    for (const r of running) r.controller.abort(new LLMError({ code: 'shutting_down', message: 'The gguf engine was closed', ...this.errorContext }));
    await Promise.allSettled(running.map((r) => r.done));
    await this.loader.dispose();
  }
}

/** The `gguf` engine (node-llama-cpp). Its `capabilities` tell the router what the model can do without loading it. */
export function createGgufEngine(model: ModelConfig, ctx: EngineContext): GgufEngine {
  return new GgufEngine(model, ctx);
}

createGgufEngine.capabilities = ggufCapabilities;
createGgufEngine.checkConfig = (model: ModelConfig): void => {
  checkModelPath(model, 'gguf', '.gguf');
  parseGgufOptions(model);
};
