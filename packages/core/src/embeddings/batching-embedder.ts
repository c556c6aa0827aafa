import { LLMError } from '../errors/llm-error.js';
import type { Embedder } from './embedder.js';

export interface BatchingEmbedderOptions {
  /** Most texts per call to the inner embedder. Default 32. */
  maxBatch?: number;
  /** How long to wait for more texts before sending a partial batch, ms. Default 0 (the current tick only). */
  maxWaitMs?: number;
}

interface Pending {
  text: string;
  resolve: (v: Float32Array) => void;
  reject: (e: unknown) => void;
}

/**
 * Coalesces concurrent `embed` calls into batches of at most `maxBatch` texts: many requests arriving
 * together cost one model or provider call per batch instead of one per request. A failed batch rejects
 * every call that had texts in it.
 */
export class BatchingEmbedder implements Embedder {
  readonly id: string;
  /** The inner embedder's (and its `inputLength`). */
  readonly maxInputChars?: number;
  readonly inputLength?: (text: string) => number;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #scheduled = false;
  /** Calls made to the inner embedder (for tests and stats). */
  batches = 0;

  constructor(private readonly inner: Embedder, options: BatchingEmbedderOptions = {}) {
    this.id = inner.id;
    if (inner.maxInputChars !== undefined) this.maxInputChars = inner.maxInputChars;
    if (inner.inputLength) this.inputLength = inner.inputLength.bind(inner);
    this.#maxBatch = options.maxBatch ?? 32;
    this.#maxWaitMs = options.maxWaitMs ?? 0;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) {
      throw new LLMError({ code: 'config_invalid', message: `BatchingEmbedder: maxBatch must be a positive integer, got ${String(options.maxBatch)}`, param: 'maxBatch' });
    }
    if (!(this.#maxWaitMs >= 0)) {
      throw new LLMError({ code: 'config_invalid', message: `BatchingEmbedder: maxWaitMs must be >= 0, got ${String(options.maxWaitMs)}`, param: 'maxWaitMs' });
    }
  }

  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    const promises = texts.map(
      (text) => new Promise<Float32Array>((resolve, reject) => this.#queue.push({ text, resolve, reject })),
    );
    while (this.#queue.length >= this.#maxBatch) this.#send(this.#queue.splice(0, this.#maxBatch));
    this.#schedule();
    return Promise.all(promises);
  }

  #schedule(): void {
    if (this.#queue.length === 0 || this.#scheduled) return;
    this.#scheduled = true;
    const flush = () => {
      this.#scheduled = false;
      this.#timer = undefined;
      while (this.#queue.length > 0) this.#send(this.#queue.splice(0, this.#maxBatch));
    };
    if (this.#maxWaitMs > 0) this.#timer = setTimeout(flush, this.#maxWaitMs);
    else queueMicrotask(flush);
  }

  #send(batch: Pending[]): void {
    this.batches++;
    this.inner.embed(batch.map((p) => p.text)).then(
      (vectors) => batch.forEach((p, i) => (vectors[i] ? p.resolve(vectors[i]) : p.reject(new LLMError({ code: 'internal', message: 'embedder returned too few vectors' })))),
      (e: unknown) => batch.forEach((p) => p.reject(e)),
    );
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    await this.inner.close?.();
  }
}
