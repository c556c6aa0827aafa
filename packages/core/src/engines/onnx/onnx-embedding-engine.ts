import { LLMError } from '../../errors/llm-error.js';
import { abortError, toLLMError } from '../../errors/to-llm-error.js';
import type { EmbedCallOptions, EmbedResult, EngineCapabilities, GenerateResult, LanguageEngineV1, StreamPart } from '../../spec/index.js';
import { makeUsage } from '../../spec/usage.js';
import { anySignal } from '../../util/abort.js';
import { buildFeeds } from './graph-feeds.js';
import { OnnxEngineBase } from './onnx-engine-base.js';
import type { LoadedOnnx } from './onnx-loader.js';
import { firstTokenPool, l2Normalize, meanPool, rowOf } from './pooling.js';

/**
 * The `onnx` engine for embedding models: tokenizes each input, runs the graph in padded batches and
 * pools per-token outputs (mean over the attention mask, or the first token), then L2-normalizes.
 * A `sentence_embedding` output (pooled by the graph) is used as it is, normalized.
 */
export class OnnxEmbeddingEngine extends OnnxEngineBase implements LanguageEngineV1 {
  readonly capabilities: EngineCapabilities = { embeddings: true };

  private notAGenerator(): LLMError {
    return new LLMError({
      code: 'unsupported',
      message: `"${this.deployment}" is an onnx embedding model: it has embed() but cannot generate text`,
      ...this.errorContext,
    });
  }

  generate(): Promise<GenerateResult> {
    return Promise.reject(this.notAGenerator());
  }

  // eslint-disable-next-line require-yield -- the failure contract: one error part, then the end.
  async *stream(): AsyncGenerator<StreamPart> {
    yield { type: 'error', error: this.notAGenerator() };
  }

  /**
   * Texts only (its own tokenizer: no `embedTokens`), at the model's own vector length: `dimensions` is refused
   * (`unsupported`; no `embedDimensions`, so a router does not send it).
   */
  async embed(input: string[], options: EmbedCallOptions = {}): Promise<EmbedResult> {
    if (options.dimensions !== undefined) {
      throw new LLMError({ code: 'unsupported', message: `"${this.deployment}" is an onnx model with vectors of a fixed length: dimensions is not supported`, param: 'dimensions', ...this.errorContext });
    }
    const signal = options.signal;
    const controller = new AbortController();
    const runSignal = anySignal([signal, controller.signal]) ?? controller.signal;
    this.running.add(controller);
    try {
      if (!Array.isArray(input) || input.length === 0 || input.some((t) => typeof t !== 'string')) {
        throw new LLMError({ code: 'invalid_request', message: 'input: a non-empty array of strings is required', param: 'input', ...this.errorContext });
      }
      const loaded = await this.loaded(runSignal);
      const rows = input.map((text, i) => this.encodeChecked(loaded, text, `input.${i}`));
      const embeddings: number[][] = [];
      for (let start = 0; start < rows.length; start += this.options.batchSize) {
        if (runSignal.aborted) throw runSignal.reason;
        embeddings.push(...(await this.embedBatch(loaded, rows.slice(start, start + this.options.batchSize))));
      }
      if (runSignal.aborted) throw runSignal.reason;
      const tokens = rows.reduce((n, r) => n + r.length, 0);
      // `user` as on chat (`localRequestWarnings`): a local engine has no provider to tell.
      if (options.user !== undefined) return { embeddings, usage: makeUsage(tokens, 0), warnings: [{ code: 'setting_not_sent', field: 'user', message: 'user was not used: the onnx engine is local (no provider to tell).' }] };
      return { embeddings, usage: makeUsage(tokens, 0) };
    } catch (e) {
      throw signal?.aborted ? abortError(signal, this.errorContext) : toLLMError(e, this.errorContext);
    } finally {
      this.running.delete(controller);
    }
  }

  private async embedBatch(loaded: LoadedOnnx, rows: number[][]): Promise<number[][]> {
    const { feeds, dims: [batch], mask } = buildFeeds(loaded.ort, loaded.io, rows, loaded.tokenizer.padId);
    const out = await this.runGraph(loaded, feeds);
    const name = loaded.io.output;
    const tensor = out[name];
    const dims = tensor?.dims ?? [];
    const data = tensor?.data;
    const expectRank = loaded.io.outputKind === 'sentence' ? 2 : 3;
    if (!(data instanceof Float32Array) || dims.length !== expectRank || dims[0] !== batch) {
      throw new LLMError({
        code: 'invalid_response',
        message: `ONNX output "${name}" has shape [${dims.join(', ')}] (${tensor?.type ?? 'missing'}); expected float32 ${expectRank === 2 ? '[batch, dim]' : '[batch, seq, dim]'} with batch ${batch}`,
        isRetryable: false,
        ...this.errorContext,
      });
    }
    const vectors = rows.map((_, b) => {
      if (loaded.io.outputKind === 'sentence') return rowOf(data, dims[1]!, b);
      const d3 = [dims[0]!, dims[1]!, dims[2]!] as const;
      return this.options.pooling === 'cls' ? firstTokenPool(data, d3, b) : meanPool(data, d3, mask, b);
    });
    return this.options.normalize ? vectors.map(l2Normalize) : vectors;
  }
}
