import { LLMError } from '@llmrr/core';
import type { FrameSink, FrameStream } from '../http/reply.js';
import type { OpenedStream } from './open-stream.js';

/** Default `GatewayOptions.streamHoldMs`: how long a stream is held before its 200 and headers go out without content. */
export const DEFAULT_STREAM_HOLD_MS = 10_000;

/** The longest gap between two keep-alives of a committed stream that waits for its first content, ms. */
export const MAX_KEEP_ALIVE_MS = 10_000;

/** The shortest gap between two keep-alives, ms (a hold of 1 ms does not make a write per ms per stream). */
export const MIN_KEEP_ALIVE_MS = 1_000;

/** The longest timer (2^31 - 1 ms): a hold this long or longer is no bound (held until the first content, no timer). */
const LONGEST_TIMER_MS = 2_147_483_647;

/** A keep-alive the official SDKs ignore: an SSE comment line (OpenAI routes; the Anthropic route sends its `ping`). */
export const SSE_COMMENT_KEEP_ALIVE = ': keep-alive\n\n';

/**
 * The hold of a gateway (`GatewayOptions.streamHoldMs`) as the calls use it: undefined when a stream is held until its
 * first content (a hold of the longest timer or more, `Infinity`), else the ms (0: the headers go out at once).
 * Throws a `config_invalid` error naming the option for a value that is no number of ms.
 */
export function streamHold(ms: number | undefined): number | undefined {
  if (ms === undefined) return DEFAULT_STREAM_HOLD_MS;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new LLMError({ code: 'config_invalid', message: `streamHoldMs must be a number of ms >= 0 (Infinity: no bound), got ${String(ms)}`, param: 'streamHoldMs' });
  }
  return ms >= LONGEST_TIMER_MS ? undefined : ms;
}

/**
 * The gap between two keep-alives of a stream committed after a hold of `holdMs`: the hold, within
 * [`MIN_KEEP_ALIVE_MS`, `MAX_KEEP_ALIVE_MS`] (the longest when 0). The first keep-alive goes out at the commit.
 */
export function keepAliveMs(holdMs: number): number {
  if (holdMs <= 0 || holdMs >= MAX_KEEP_ALIVE_MS) return MAX_KEEP_ALIVE_MS;
  return holdMs > MIN_KEEP_ALIVE_MS ? holdMs : MIN_KEEP_ALIVE_MS;
}

/**
 * `opening` once it opened within `holdMs`, or undefined when the hold ended first (then the stream is committed:
 * `HeldStream`); rejects when it failed within the hold. One timer, cleared when the stream opens.
 */
export function holdOpen(opening: Promise<OpenedStream>, holdMs: number): Promise<OpenedStream | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, holdMs, undefined);
    opening.then(
      (opened) => {
        clearTimeout(timer);
        resolve(opened);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** What a `HeldStream` asks of its call. */
export interface HeldStreamCall {
  /** The keep-alive frame of the route (`StreamEncoder.keepAlive`). */
  keepAlive: string;
  /** ms between two keep-alives. */
  intervalMs: number;
  /** The stream opened: the body that sends it (the start frames, the head, then the parts). May throw: a failure. */
  opened(opened: OpenedStream): FrameStream;
  /**
   * The stream failed before it opened (or `opened` threw): the call is settled; resolves to the route's error event,
   * or undefined when the client is gone (nothing more to send).
   */
  failed(error: unknown): Promise<string | undefined>;
  /** The client went away before the stream opened: the router stream is cancelled with `reason` (its open then fails). */
  cancel(reason: DOMException): void;
}

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };

/**
 * The body of a stream committed before its first content (its 200 and headers sent when the hold ended): a keep-alive
 * at once (so the headers go out with it) and every `intervalMs` while the router stream opens (the router may still
 * fall over to another deployment meanwhile: only keep-alives were sent), then the opened stream's own body; a failure
 * to open is settled and sent as the route's error event, as a stream that breaks after its first byte is. Only the
 * held phase is this class's: one timer at a time while it waits, none once the stream opened.
 */
export class HeldStream implements FrameStream, AsyncIterator<string, void> {
  readonly frames: AsyncIterator<string, void> = this;
  private inner: FrameStream | undefined;
  private failure: Promise<string | undefined> | undefined;
  private started = false;
  private done = false;
  /** The client went away (`cancel`): the reason the router stream was cancelled with. */
  private gone: DOMException | undefined;
  /** Ends the wait for the next keep-alive early (the stream opened or failed). */
  private wake: (() => void) | undefined;
  /** The transport's `abandon` for the opened body (`onAbandon`). */
  private abandon: (() => void) | undefined;

  constructor(
    opening: Promise<OpenedStream>,
    private readonly call: HeldStreamCall,
  ) {
    opening.then(
      (opened) => {
        try {
          const inner = call.opened(opened);
          this.inner = inner;
          if (this.abandon !== undefined) inner.onAbandon?.(this.abandon);
          // The client left while the stream opened: the opened body is closed and settled as its leaving.
          if (this.gone) void inner.cancel().catch(() => {});
        } catch (e) {
          this.failure = call.failed(this.gone ?? e);
        }
        this.wake?.();
      },
      (e: unknown) => {
        // The client left (`cancel`): the router stream was cancelled for it, whatever its open then says.
        this.failure = call.failed(this.gone ?? e);
        this.wake?.();
      },
    );
  }

  async next(): Promise<IteratorResult<string, void>> {
    for (;;) {
      if (this.inner) return this.inner.frames.next();
      const r = await this.held();
      if (r !== undefined) return r;
    }
  }

  /** The held phase's next frame (a keep-alive, the failure's error event, the end), or undefined once the stream opened. */
  private async held(): Promise<IteratorResult<string, void> | undefined> {
    for (;;) {
      if (this.inner) return undefined;
      if (this.done) return DONE;
      if (!this.started) {
        this.started = true;
        return { done: false, value: this.call.keepAlive };
      }
      if (this.failure) {
        this.done = true;
        const text = await this.failure.catch(() => undefined);
        return text === undefined || this.gone !== undefined ? DONE : { done: false, value: text };
      }
      // The client is gone (on the Node pipe path the body is still read until it ends): no more keep-alives, only
      // the wait for the open or its failure (the router stream was cancelled, so it comes soon).
      if (this.gone) await this.settling();
      else if (await this.tick()) return { done: false, value: this.call.keepAlive };
    }
  }

  async pipe(sink: FrameSink): Promise<void> {
    for (;;) {
      const inner = this.inner;
      if (inner) {
        // The opened body writes from its first frame on (`SseFrames.pipe`: a write the client does not take is bounded).
        if (inner.pipe) return inner.pipe(sink);
        for (;;) {
          const r = await inner.frames.next();
          if (r.done) return;
          if (!sink.write(r.value)) await sink.drained();
        }
      }
      const r = await this.held();
      if (r === undefined) continue;
      if (r.done) return;
      // A keep-alive the client does not take: once the stream opens, its body goes on at once (its first write stalls
      // too, and it gives up on the client in time: `SseFrames`), not once the client reads again.
      if (!sink.write(r.value)) await (this.inner || this.failure ? sink.drained() : Promise.race([sink.drained(), this.settling()]));
    }
  }

  /** The opened body's (`FrameStream.onAbandon`), from when it opens. */
  onAbandon(abandon: () => void): void {
    this.abandon = abandon;
    this.inner?.onAbandon?.(abandon);
  }

  /** Waits `intervalMs`, or less when the stream opens or fails meanwhile: true when the wait was whole (a keep-alive is due). */
  private tick(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(true);
      }, this.call.intervalMs);
      this.wake = () => {
        this.wake = undefined;
        clearTimeout(timer);
        resolve(false);
      };
    });
  }

  /** Resolves when the stream opens or fails (at once if it did already). */
  private settling(): Promise<void> {
    if (this.inner || this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }

  async cancel(): Promise<void> {
    if (this.inner) return this.inner.cancel();
    if (this.gone) return;
    const gone = new DOMException('This operation was aborted', 'AbortError');
    this.gone = gone;
    this.call.cancel(gone);
    // The open fails (or, had it opened meanwhile, the opened body is cancelled): the call settles as the client's abort.
    if (this.failure) await this.failure.catch(() => {});
  }

  /** A server's shutdown cut: the opened body's (before it opened, the cut reaches the call through its router stream). */
  interrupt(error: Parameters<NonNullable<FrameStream['interrupt']>>[0]): void {
    this.inner?.interrupt?.(error);
  }
}
