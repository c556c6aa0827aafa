import { RELEASE_LINGER_MS, type BodySink, type BodyTap, type DirectBody } from '@llmrr/core';
import type { Dispatcher } from 'undici';

/** Bytes a streamed body holds for its reader before the socket is paused. */
export const HIGH_WATER_BYTES = 64 * 1024;

/**
 * The streamed body of an upstream answer: the dispatch handler feeds it (`data`, `end`, `fail`), its reader
 * taps it (`tap`, through `DIRECT_BODY`; or `Response.body`, a web stream built on the same tap). Bytes that
 * come before the tap are kept (the socket pauses at `HIGH_WATER_BYTES`). A cancel aborts the upstream
 * request. A release (the reader's terminal event came) drops the rest of the body and lets it end by
 * itself, which keeps the connection for the next request; one that has not ended `RELEASE_LINGER_MS` later
 * is aborted. The linger timer is armed only when the end did not come in the same socket read. Until then the
 * connection stays busy: with `UpstreamFetchOptions.connections` set, a request may wait for it, and `close()`
 * waits for it (at most `RELEASE_LINGER_MS`, for an upstream that does not end its body after the last event).
 */
export class UpstreamBody implements DirectBody, BodyTap {
  private sink: BodySink | undefined;
  /** Chunks that came before the tap. */
  private early: Buffer[] | undefined = [];
  private earlyBytes = 0;
  /** The upstream answer is over: it ended, failed or was aborted here. */
  private finished = false;
  private failure: { cause: unknown } | undefined;
  private cancelled = false;
  private pausedByReader = false;
  private tapped = false;
  private linger: ReturnType<typeof setTimeout> | undefined;

  /** `onAbort`: this body aborts the upstream request (the fetch's own bookkeeping runs first). */
  constructor(
    private readonly controller: Dispatcher.DispatchController,
    private readonly onAbort: () => void,
  ) {}

  /** Tapped or cancelled: the body cannot be read again. */
  get used(): boolean {
    return this.tapped || this.cancelled;
  }

  data(chunk: Buffer): void {
    if (this.finished || this.cancelled) return;
    if (this.sink) {
      this.sink.data(chunk);
      return;
    }
    this.early!.push(chunk);
    this.earlyBytes += chunk.byteLength;
    if (this.earlyBytes >= HIGH_WATER_BYTES) this.controller.pause();
  }

  end(): void {
    if (this.finished) return;
    this.settle();
    const sink = this.sink;
    // The reader is not held after the end (a Response kept longer would keep it alive).
    this.sink = undefined;
    if (!this.cancelled) sink?.end();
  }

  fail(cause: unknown): void {
    if (this.finished) return;
    this.settle();
    if (this.cancelled) return;
    const sink = this.sink;
    this.sink = undefined;
    if (sink) sink.error(cause);
    else this.failure = { cause };
  }

  tap(sink: BodySink): BodyTap {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.tapped = true;
    this.sink = sink;
    const early = this.early!;
    this.early = undefined;
    for (let i = 0; i < early.length && !this.cancelled; i++) sink.data(early[i]!);
    if (this.cancelled) return this;
    if (this.finished) {
      this.sink = undefined;
      if (this.failure) sink.error(this.failure.cause);
      else sink.end();
    } else if (this.controller.paused && !this.pausedByReader) {
      this.controller.resume();
    }
    return this;
  }

  pause(): void {
    this.pausedByReader = true;
    if (!this.finished) this.controller.pause();
  }

  resume(): void {
    this.pausedByReader = false;
    if (!this.finished && this.controller.paused) this.controller.resume();
  }

  cancel(reason?: unknown): void {
    if (this.cancelled) return;
    this.drop();
    this.abort(reason);
  }

  release(): void {
    if (this.cancelled) return;
    this.drop();
    if (this.finished) return;
    if (this.controller.paused) this.controller.resume();
    // The rest of this socket read (often the body's end) is parsed before a microtask runs.
    queueMicrotask(() => {
      if (this.finished) return;
      const t = setTimeout(() => this.abort(undefined), RELEASE_LINGER_MS);
      (t as { unref?: () => void }).unref?.();
      this.linger = t;
    });
  }

  /** No more calls to the sink. */
  private drop(): void {
    this.cancelled = true;
    this.sink = undefined;
    this.early = undefined;
  }

  private abort(reason: unknown): void {
    if (this.finished) return;
    this.settle();
    this.onAbort();
    this.controller.abort(reason instanceof Error ? reason : new DOMException('The response body was cancelled', 'AbortError'));
  }

  private settle(): void {
    this.finished = true;
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
  }
}
