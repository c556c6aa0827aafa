import type { ModelConfig } from '../../config/schema.js';
import type { LLMErrorCode } from '../../errors/codes.js';
import { LLMError } from '../../errors/llm-error.js';
import { abortError } from '../../errors/to-llm-error.js';
import type { CallOptions, CallWarning, EmbedCallOptions, GenerateRequest, GenerateResult, LanguageEngineV1, StreamPart, TokenLogprob, ToolCall, Usage } from '../../spec/index.js';
import { messageText } from '../../spec/messages.js';
import { sleep } from '../../util/abort.js';
import { checkReasoning, reasoningBudget, wantsThinking } from '../shared/reasoning.js';
import { parseMockOptions } from './mock-options.js';

/**
 * A scripted failure: the next `times` calls (generate, stream or embed, in the order they come) fail with
 * this error (after `afterChunks` chunks when streaming).
 */
export interface MockFailure {
  code: LLMErrorCode;
  message?: string;
  times?: number;
  retryAfterMs?: number;
  /** Streaming only: fail after this many text chunks (0 = before any). */
  afterChunks?: number;
}

export interface MockEngineOptions {
  /** Fixed answer. Default: `Mock answer to: <last user message>`. */
  reply?: string;
  /** Delay before the first token / the answer / the embeddings, in ms. */
  delayMs?: number;
  /** Delay between streamed chunks, in ms. */
  chunkDelayMs?: number;
  /** Words per streamed chunk. */
  wordsPerChunk?: number;
  /** When tools are given, call the first one with these arguments instead of answering. */
  toolArguments?: Record<string, unknown>;
  failures?: MockFailure[];
  modelId?: string;
  /**
   * Warnings to report on every generate/stream call, as a real engine reports what it did not do as asked:
   * `warnings` on the result, and a `warnings` stream part first (before a scripted failure too, as an engine
   * that mapped the request and then failed). For tests of what consumes warnings (router, gateway). Without
   * it the mock reports none: it answers from a script, and ignores sampling settings (penalties, topK and verbosity included) by
   * design; it makes at most one tool call, so `parallelToolCalls: false` always holds. `logitBias` is the exception:
   * see `mockLogitBias`.
   */
  warnings?: CallWarning[];
}

/**
 * The mock's log probabilities of `tokens` (its "tokens" are the streamed words, each with its trailing
 * whitespace), when `request.logprobs` asks for them: the mock answers deterministically, so each token's
 * probability really is 1 (logprob 0), and with `topLogprobs` > 0 the chosen token is the only candidate.
 * These are the mock's, for tests and demos of the logprobs path; never a model's.
 */
function mockLogprobs(request: GenerateRequest, tokens: readonly string[]): TokenLogprob[] | undefined {
  if (request.logprobs === undefined) return undefined;
  const top = (request.logprobs.topLogprobs ?? 0) > 0;
  return tokens.filter((token) => token !== '').map((token) => (top ? { token, logprob: 0, topLogprobs: [{ token, logprob: 0 }] } : { token, logprob: 0 }));
}

/** The mock's tokens of an answer (what it streams, one chunk per `wordsPerChunk`): split after each whitespace character. */
function mockTokens(text: string): string[] {
  return text.split(/(?<=\s)/);
}

/**
 * The mock's `logitBias`, in the simplest form that can be seen in an answer: the mock's token id of a character is
 * its Unicode code point (`"101"` is `e`), and a bias of -100 (a ban, as OpenAI documents it) keeps that character
 * out of its text answer (a fixed `reply` too); `{ "32": -100 }` leaves no space. Other biases cannot be applied to a
 * scripted answer: not applied, said in a `setting_not_sent` warning on `logitBias`. Returns the characters banned
 * (undefined: none) and that warning.
 */
function mockLogitBias(request: GenerateRequest): { banned?: ReadonlySet<string>; warning?: CallWarning } {
  const bias = request.logitBias;
  if (typeof bias !== 'object' || bias === null) return {};
  let banned: Set<string> | undefined;
  let other = 0;
  for (const [id, value] of Object.entries(bias)) {
    const code = Number(id);
    if (value <= -100 && Number.isSafeInteger(code) && code >= 0 && code <= 0x10ffff) (banned ??= new Set()).add(String.fromCodePoint(code));
    else other++;
  }
  const warning: CallWarning | undefined =
    other === 0
      ? undefined
      : { code: 'setting_not_sent', field: 'logitBias', message: `logitBias was not applied to ${other} token${other === 1 ? '' : 's'}: the mock engine only bans a character (its code point as the token id) at -100.` };
  return { ...(banned ? { banned } : {}), ...(warning ? { warning } : {}) };
}

/** `text` without the `banned` characters. */
function withoutBanned(text: string, banned: ReadonlySet<string> | undefined): string {
  if (banned === undefined) return text;
  let out = '';
  for (const ch of text) if (!banned.has(ch)) out += ch;
  return out;
}

/** The mock's vector length when a call sets no `dimensions`. */
const MOCK_DIMENSIONS = 64;
/** The longest vectors the mock makes (a demo's bound: 2048 inputs of it are already a large answer). */
const MOCK_MAX_DIMENSIONS = 4096;

/** Whitespace-word count, the mock's own deterministic "tokenizer". */
function countWords(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

/**
 * The `mock` engine: deterministic, offline, for tests and demos only. It is never a real model:
 * its answers say "Mock answer", and its usage counts whitespace-separated words.
 */
export class MockEngine implements LanguageEngineV1 {
  readonly specVersion = 'v1' as const;
  readonly provider = 'mock';
  /** `countTokens` counts words: a stand-in, not a tokenizer. */
  readonly countTokensExact = false;
  /** `countTokens` does no network I/O. */
  readonly countTokensRemote = false;
  readonly modelId: string;
  readonly capabilities = { streaming: true, tools: true, json: true, embeddings: true } as const;
  /** `embed` makes vectors of `dimensions` (up to `MOCK_MAX_DIMENSIONS`). Texts only: no `embedTokens`. */
  readonly embedDimensions = true;
  private readonly failures: MockFailure[];
  /** Number of generate/stream calls started, for tests. */
  calls = 0;
  /** Number of embed calls started, for tests. */
  embedCalls = 0;

  constructor(private readonly options: MockEngineOptions = {}) {
    this.modelId = options.modelId ?? 'mock';
    this.failures = (options.failures ?? []).map((f) => ({ ...f, times: f.times ?? 1 }));
  }

  /** The answer, cut to `maxTokens` words; `cut`: it was (finish reason 'length'). */
  private answer(request: GenerateRequest): { text: string; cut: boolean } {
    const banned = request.logitBias === undefined ? undefined : mockLogitBias(request).banned;
    if (this.options.reply !== undefined) return { text: withoutBanned(this.options.reply, banned), cut: false };
    const lastUser = [...request.messages].reverse().find((m) => m.role === 'user');
    let text = `Mock answer to: ${lastUser ? messageText(lastUser) : ''}`;
    if (request.responseFormat && request.responseFormat.type !== 'text') text = JSON.stringify({ answer: text });
    text = withoutBanned(text, banned);
    if (request.maxTokens === undefined) return { text, cut: false };
    const parts = text.split(/(\s+)/);
    const keep = request.maxTokens * 2 - 1;
    if (parts.length <= keep) return { text, cut: false };
    return { text: parts.slice(0, keep).join(''), cut: true };
  }

  /**
   * The mock's "reasoning" when the request asks for thinking (`reasoning`, checked as the real engines check
   * it): one line naming the effort or budget, so tests and demos can see the field arrive. Otherwise undefined.
   */
  private reasoning(request: GenerateRequest): string | undefined {
    const reasoning = checkReasoning(request.reasoning, 'mock');
    if (!wantsThinking(reasoning)) return undefined;
    return reasoning!.effort !== undefined ? `Mock reasoning at effort ${reasoning!.effort}.` : `Mock reasoning within ${reasoningBudget(reasoning!)} tokens.`;
  }

  private usage(request: GenerateRequest, output: string, reasoning?: string): Usage {
    const input = request.messages.reduce((n, m) => n + countWords(messageText(m)), 0);
    const thought = reasoning === undefined ? 0 : countWords(reasoning);
    const out = countWords(output) + thought;
    return { inputTokens: input, outputTokens: out, totalTokens: input + out, ...(reasoning === undefined ? {} : { reasoningTokens: thought }) };
  }

  /** The scripted `warnings` (copies), then the one about a `logitBias` not applied; undefined when none. */
  private warnings(request: GenerateRequest): CallWarning[] | undefined {
    const bias = request.logitBias === undefined ? undefined : mockLogitBias(request).warning;
    if (!this.options.warnings?.length && bias === undefined) return undefined;
    const out = (this.options.warnings ?? []).map((w) => ({ ...w }));
    if (bias) out.push(bias);
    return out;
  }

  private takeFailure(): MockFailure | undefined {
    const f = this.failures[0];
    if (!f) return undefined;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.failures.shift();
    return f;
  }

  private error(f: MockFailure): LLMError {
    return new LLMError({
      code: f.code,
      message: f.message ?? `mock failure: ${f.code}`,
      retryAfterMs: f.retryAfterMs,
      provider: 'mock',
    });
  }

  private toolCall(request: GenerateRequest): ToolCall | undefined {
    const tool = request.tools?.[0];
    if (!tool || request.toolChoice === 'none') return undefined;
    if (this.options.toolArguments === undefined && request.toolChoice !== 'required' && typeof request.toolChoice !== 'object') return undefined;
    const name = typeof request.toolChoice === 'object' ? request.toolChoice.name : tool.name;
    return { id: `call_mock_${this.calls}`, name, arguments: JSON.stringify(this.options.toolArguments ?? {}) };
  }

  /** What generate and embed do first: wait `delayMs` (abortable), then fail as scripted, if so. */
  private async start(failure: MockFailure | undefined, signal: AbortSignal | undefined): Promise<void> {
    try {
      if (this.options.delayMs) await sleep(this.options.delayMs, signal);
    } catch {
      throw abortError(signal!, { provider: 'mock' });
    }
    if (signal?.aborted) throw abortError(signal, { provider: 'mock' });
    if (failure) throw this.error(failure);
  }

  async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    this.calls++;
    await this.start(this.takeFailure(), options.signal);
    const reasoning = this.reasoning(request);
    const call = this.toolCall(request);
    const answer = call ? { text: '', cut: false } : this.answer(request);
    const text = answer.text;
    const logprobs = call ? undefined : mockLogprobs(request, mockTokens(text));
    const warnings = this.warnings(request);
    return {
      text,
      toolCalls: call ? [call] : [],
      finishReason: call ? 'tool-calls' : answer.cut ? 'length' : 'stop',
      usage: this.usage(request, text + (call?.arguments ?? ''), reasoning),
      id: `mock-${this.calls}`,
      providerModel: this.modelId,
      ...(reasoning === undefined ? {} : { reasoning }),
      ...(warnings === undefined ? {} : { warnings }),
      ...(logprobs === undefined ? {} : { logprobs }),
    };
  }

  async *stream(request: GenerateRequest, options: CallOptions = {}): AsyncGenerator<StreamPart> {
    this.calls++;
    const failure = this.takeFailure();
    const signal = options.signal;
    try {
      const reasoning = this.reasoning(request);
      if (this.options.delayMs) await sleep(this.options.delayMs, signal);
      // As generate() does: an aborted call answers nothing (a tool call included), whatever comes next.
      if (signal?.aborted) throw signal.reason;
      const warnings = this.warnings(request);
      if (warnings !== undefined) yield { type: 'warnings', warnings };
      if (failure && (failure.afterChunks ?? 0) === 0) {
        yield { type: 'error', error: this.error(failure) };
        return;
      }
      yield { type: 'response-metadata', id: `mock-${this.calls}`, model: this.modelId };
      if (reasoning !== undefined) yield { type: 'reasoning-delta', delta: reasoning };
      const call = this.toolCall(request);
      if (call) {
        yield { type: 'tool-call-delta', index: 0, id: call.id, name: call.name, argumentsDelta: call.arguments };
        yield { type: 'tool-call', index: 0, toolCall: call };
        yield { type: 'finish', finishReason: 'tool-calls', usage: this.usage(request, call.arguments, reasoning) };
        return;
      }
      const { text, cut } = this.answer(request);
      const words = mockTokens(text);
      const per = Math.max(1, this.options.wordsPerChunk ?? 1);
      let chunks = 0;
      for (let i = 0; i < words.length; i += per) {
        if (i > 0 && this.options.chunkDelayMs) await sleep(this.options.chunkDelayMs, signal);
        if (signal?.aborted) throw signal.reason;
        if (failure && chunks === failure.afterChunks) {
          yield { type: 'error', error: this.error(failure) };
          return;
        }
        const tokens = words.slice(i, i + per);
        yield { type: 'text-delta', delta: tokens.join('') };
        const logprobs = mockLogprobs(request, tokens);
        if (logprobs && logprobs.length > 0) yield { type: 'logprobs', logprobs };
        chunks++;
      }
      yield { type: 'finish', finishReason: cut ? 'length' : 'stop', usage: this.usage(request, text, reasoning) };
    } catch (e) {
      if (signal?.aborted) {
        yield { type: 'error', error: abortError(signal, { provider: 'mock' }) };
        return;
      }
      throw e;
    }
  }

  /**
   * Deterministic pseudo-embeddings (hash of character trigrams into 64 dims, or `options.dimensions`), for tests
   * only. Waits `delayMs`, honours the abort signal and takes scripted `failures` like `generate`. More than
   * `MOCK_MAX_DIMENSIONS` is refused (`unsupported`).
   */
  async embed(input: string[], options: EmbedCallOptions = {}): Promise<{ embeddings: number[][]; usage: Usage }> {
    this.embedCalls++;
    const dims = options.dimensions ?? MOCK_DIMENSIONS;
    if (!Number.isSafeInteger(dims) || dims < 1 || dims > MOCK_MAX_DIMENSIONS) {
      throw new LLMError({ code: 'unsupported', message: `mock: dimensions must be from 1 to ${MOCK_MAX_DIMENSIONS}, got ${String(dims)}`, param: 'dimensions', provider: 'mock' });
    }
    await this.start(this.takeFailure(), options.signal);
    const embeddings = input.map((text) => {
      const v = new Array<number>(dims).fill(0);
      const s = ` ${text.toLowerCase()} `;
      for (let i = 0; i + 3 <= s.length; i++) {
        let h = 2166136261;
        for (let j = i; j < i + 3; j++) h = Math.imul(h ^ s.charCodeAt(j), 16777619);
        v[(h >>> 0) % dims]! += 1;
      }
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    });
    const tokens = input.reduce((n, t) => n + countWords(t), 0);
    return { embeddings, usage: { inputTokens: tokens, outputTokens: 0, totalTokens: tokens } };
  }

  countTokens(request: GenerateRequest): number {
    return request.messages.reduce((n, m) => n + countWords(messageText(m)), 0);
  }
}

/** Factory of the `mock` engine; bad `options` (`MockOptionsSchema`) throw `config_invalid` naming the field. */
export function createMockEngine(model: ModelConfig): MockEngine {
  return new MockEngine({ modelId: model.model ?? model.name, ...parseMockOptions(model) });
}

createMockEngine.checkConfig = (model: ModelConfig): void => {
  parseMockOptions(model);
};
