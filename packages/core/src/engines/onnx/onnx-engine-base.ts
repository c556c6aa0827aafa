import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ModelConfig } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { toLLMError } from '../../errors/to-llm-error.js';
import type { ChatMessage, GenerateRequest, ModelPrice } from '../../spec/index.js';
import { raceAbort } from '../../util/abort.js';
import { localMessageText } from '../shared/local-message-text.js';
import { requireModelPath } from '../shared/require-model-path.js';
import type { EngineContext } from '../types.js';
import { OnnxLoader, type LoadedOnnx } from './onnx-loader.js';
import { onnxTask, parseOnnxOptions, type OnnxOptions } from './onnx-options.js';

/** The prompt of a request: the messages' text joined by newlines (a message's text parts too: `localMessageText`; no chat template). */
export function promptText(messages: ChatMessage[]): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: 'messages: at least one message is required', param: 'messages', provider: 'onnx' });
  }
  messages.forEach((m, i) => {
    if (m.role === 'tool' || (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0)) {
      throw new LLMError({ code: 'unsupported', message: `messages.${i}: the onnx engine does not support tool calls or tool results`, param: `messages.${i}`, provider: 'onnx' });
    }
    if (m.role === 'user' && Array.isArray(m.content) && m.content.some((p) => p.type !== 'text')) {
      throw new LLMError({ code: 'unsupported', message: `messages.${i}.content: the onnx engine takes text only (no images)`, param: `messages.${i}.content`, provider: 'onnx' });
    }
  });
  return messages.map(localMessageText).join('\n');
}

/** What the two ONNX engines (text generation and embeddings) share: config, lazy loading, close. */
export abstract class OnnxEngineBase {
  readonly specVersion = 'v1' as const;
  readonly provider = 'onnx';
  /** `countTokens` uses the model's own tokenizer. */
  readonly countTokensExact = true;
  /** `countTokens` does no network I/O. */
  readonly countTokensRemote = false;
  readonly modelId: string;
  /** Local inference costs nothing per token. */
  readonly price: ModelPrice = { input: 0, output: 0 };
  readonly options: OnnxOptions;
  readonly task: 'generate' | 'embed';
  /** Longest token sequence fed to the graph. */
  readonly contextSize: number;
  protected readonly deployment: string;
  protected readonly loader: OnnxLoader;
  /** Controllers of running calls, aborted by close(). */
  protected readonly running = new Set<AbortController>();
  /** Graph runs in flight, awaited by close() before the session is released. */
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(model: ModelConfig, ctx: EngineContext) {
    this.deployment = model.name;
    this.modelId = model.model ?? model.name;
    this.options = parseOnnxOptions(model);
    this.task = onnxTask(model, this.options);
    this.contextSize = this.options.contextSize ?? model.contextWindow ?? 512;
    const { path, configuredPath } = requireModelPath(model, ctx, 'onnx', '.onnx');
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(ctx.baseDir, p));
    this.loader = new OnnxLoader({
      path,
      tokenizerPath: this.options.tokenizer !== undefined ? abs(this.options.tokenizer) : join(dirname(path), 'tokenizer.json'),
      ...(this.options.tokenizerConfig !== undefined ? { tokenizerConfigPath: abs(this.options.tokenizerConfig) } : {}),
      configuredPath,
      deployment: model.name,
      task: this.task,
      options: this.options,
    });
  }

  protected get errorContext(): { provider: string; deployment: string } {
    return { provider: 'onnx', deployment: this.deployment };
  }

  private closedError(): LLMError {
    return new LLMError({ code: 'shutting_down', message: `The onnx engine of "${this.deployment}" is closed`, ...this.errorContext });
  }

  protected async loaded(signal?: AbortSignal): Promise<LoadedOnnx> {
    if (this.closed) throw this.closedError();
    const loaded = await raceAbort(this.loader.get(), signal);
    if (this.closed) throw this.closedError(); // closed while loading: the session is being released
    return loaded;
  }

  /** Tokens in `text` with the model's tokenizer; refuses more than `contextSize`. */
  protected encodeChecked(loaded: LoadedOnnx, text: string, param: string): number[] {
    const ids = loaded.tokenizer.encode(text);
    if (ids.length === 0) {
      throw new LLMError({ code: 'invalid_request', message: `${param}: the text has no tokens`, param, ...this.errorContext });
    }
    if (ids.length > this.contextSize) {
      throw new LLMError({
        code: 'context_length_exceeded',
        message: `${param} is ${ids.length} tokens but "${this.deployment}" takes at most ${this.contextSize} (options.contextSize)`,
        param,
        ...this.errorContext,
      });
    }
    return ids;
  }

  /** Exact prompt length in tokens with the model's tokenizer. Loads the model. */
  async countTokens(request: GenerateRequest): Promise<number> {
    try {
      const loaded = await this.loaded();
      return loaded.tokenizer.encode(promptText(request.messages)).length;
    } catch (e) {
      throw toLLMError(e, this.errorContext);
    }
  }

  /** Runs the graph, tracked so that close() waits for it. */
  protected async runGraph(loaded: LoadedOnnx, feeds: Parameters<LoadedOnnx['session']['run']>[0]): Promise<Awaited<ReturnType<LoadedOnnx['session']['run']>>> {
    const run = loaded.session.run(feeds, [loaded.io.output]);
    this.inflight.add(run);
    try {
      return await run;
    } finally {
      this.inflight.delete(run);
    }
  }

  /** Aborts running calls (they stop before their next graph run), waits for graph runs in flight, releases the session. Later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const controller of this.running) controller.abort(new LLMError({ code: 'shutting_down', message: 'The onnx engine was closed', ...this.errorContext }));
    await Promise.allSettled([...this.inflight]);
    await this.loader.dispose();
  }
}
