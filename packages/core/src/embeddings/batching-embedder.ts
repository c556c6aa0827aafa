import { LLMError } from '../errors/llm-error.js';
import { abortError } from '../errors/to-llm-error.js';
import type { CallOptions } from '../spec/index.js';
import { raceAbort } from '../util/abort.js';
import type { Embedder, EmbedderCoverage } from './embedder.js';

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
  /** The caller's signal, if it gave one. */
  signal: AbortSignal | undefined;
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
  /** The inner embedder's. */
  readonly coverage?: (text: string, cased?: string) => EmbedderCoverage | undefined;
  /** The inner embedder's. */
  readonly prepare?: () => Promise<void>;
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #scheduled = false;
  #closing: Promise<void> | undefined;
  /** Calls made to the inner embedder (for tests and stats). */
  batches = 0;

  constructor(private readonly inner: Embedder, options: BatchingEmbedderOptions = {}) {
    this.id = inner.id;
    if (inner.maxInputChars !== undefined) this.maxInputChars = inner.maxInputChars;
    if (inner.inputLength) this.inputLength = inner.inputLength.bind(inner);
    if (inner.coverage) this.coverage = inner.coverage.bind(inner);
    if (inner.prepare) this.prepare = inner.prepare.bind(inner);
    this.#maxBatch = options.maxBatch ?? 32;
    this.#maxWaitMs = options.maxWaitMs ?? 0;
    if (!Number.isInteger(this.#maxBatch) || this.#maxBatch < 1) {
      throw new LLMError({ code: 'config_invalid', message: `BatchingEmbedder: maxBatch must be a positive integer, got ${String(options.maxBatch)}`, param: 'maxBatch' });
    }
    if (!(this.#maxWaitMs >= 0)) {
      throw new LLMError({ code: 'config_invalid', message: `BatchingEmbedder: maxWaitMs must be >= 0, got ${String(options.maxWaitMs)}`, param: 'maxWaitMs' });
    }
  }

  /**
   * `options.signal`: an abort rejects this call at once (`aborted`, `timeout` for a timeout reason); its texts are
   * still embedded for the other callers of their batch, and the inner call is given a signal that aborts once every
   * caller of the batch has (none when a caller gave no signal).
   */
  embed(texts: readonly string[], options?: Pick<CallOptions, 'signal'>): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    if (this.#closing) return Promise.reject(closedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const promises = texts.map(
      (text) => new Promise<Float32Array>((resolve, reject) => this.#queue.push({ text, resolve, reject, signal })),
    );
    while (this.#queue.length >= this.#maxBatch) this.#send(this.#queue.splice(0, this.#maxBatch));
    this.#schedule();
    const all = Promise.all(promises);
    if (!signal) return all;
    return raceAbort(all, signal).catch((e: unknown) => Promise.reject(signal.aborted ? abortError(signal) : e));
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
    const gone = batchSignal(batch);
    this.inner.embed(batch.map((p) => p.text), gone ? { signal: gone.signal } : undefined).then(
      (vectors) => batch.forEach((p, i) => (vectors[i] ? p.resolve(vectors[i]) : p.reject(new LLMError({ code: 'internal', message: 'embedder returned too few vectors' })))),
      (e: unknown) => batch.forEach((p) => p.reject(e)),
    ).finally(() => gone?.release());
  }

  /**
   * Shuts down as `LLMRouter.close()` does: the calls whose texts are still waiting for their batch (`maxWaitMs`, or
   * the current tick) and the calls made from now on fail with `shutting_down`; the batches already sent are left to
   * the inner embedder, which is closed. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutDown());
  }

  async #shutDown(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const p of this.#queue.splice(0)) p.reject(closedError());
    await this.inner.close?.();
  }
}

/** The error of a call `close()` ended or refused (its own instance: a caller may add its context). */
function closedError(): LLMError {
  return new LLMError({ code: 'shutting_down', message: 'The batching embedder was closed before the texts were embedded' });
}

/**
 * A signal that aborts once every caller of `batch` has aborted (each caller's signal, counted once), and `release`
 * to drop its listeners when the batch is done; undefined when a caller gave no signal (the batch is always wanted).
 */
function batchSignal(batch: readonly Pending[]): { signal: AbortSignal; release: () => void } | undefined {
  const signals = new Set<AbortSignal>();
  for (const p of batch) {
    if (!p.signal) return undefined;
    signals.add(p.signal);
  }
  const controller = new AbortController();
  let left = 0;
  const onAbort = () => {
    if (--left === 0) controller.abort(new LLMError({ code: 'aborted', message: 'Every caller of the embedding batch was aborted' }));
  };
  for (const s of signals) {
    if (s.aborted) continue;
    left++;
    s.addEventListener('abort', onAbort, { once: true });
  }
  if (left === 0) controller.abort(new LLMError({ code: 'aborted', message: 'Every caller of the embedding batch was aborted' }));
  return { signal: controller.signal, release: () => signals.forEach((s) => s.removeEventListener('abort', onAbort)) };
}
