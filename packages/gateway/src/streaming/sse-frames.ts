import { LLMError, isContentPart, providerCacheUsage, sumUsage, toLLMError, type RouterResult, type RouterStreamPart, type StreamPart, type StreamSpend, type Usage } from '@llmrr/core';
import { toPublicError } from '../http/error-body.js';
import { answerUsage } from '../schemas/answer-usage.js';
import type { FrameSink } from '../http/reply.js';
import type { OpenedStream } from './open-stream.js';
import { ProducedText } from './produced-text.js';
import type { FinishPart, SseResponseOptions, StreamEncoder, StreamOutcome } from './sse-response.js';

type Result = IteratorResult<string, void>;

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };
const frame = (value: string): IteratorYieldResult<string> => ({ done: false, value });

function join(frames: string[]): string {
  return frames.length === 1 ? frames[0]! : frames.join('');
}

const COUNTS = ['inputTokens', 'outputTokens', 'totalTokens', 'cachedInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens', 'reasoningTokens'] as const;

/**
 * The usage of the completed answers in `spent` (a cascade's weak step): its usage less that of the failed attempts
 * in it (`failedAttempts`), or undefined when no token is left.
 */
function answersIn(spent: StreamSpend): Usage | undefined {
  const failed = spent.failedAttempts;
  if (!failed?.length) return spent.usage.inputTokens + spent.usage.outputTokens > 0 ? spent.usage : undefined;
  const u: Usage = { ...spent.usage };
  for (const k of COUNTS) {
    let n = u[k];
    if (n === undefined) continue;
    for (const f of failed) n -= f.usage[k] ?? 0;
    if (n > 0) u[k] = n;
    else if (k === 'inputTokens' || k === 'outputTokens' || k === 'totalTokens') u[k] = 0;
    else delete u[k];
  }
  return u.inputTokens + u.outputTokens > 0 ? u : undefined;
}

/**
 * An encoder with frames to send once the parts read while opening (the head) went through `part`, in the
 * stream's first write with them, whether or not a head part sent anything (the Anthropic encoder's
 * `message_start` and `ping`, which carry the head's usage).
 */
export interface HeadEncoder extends StreamEncoder {
  afterHead?(): string[];
}

/**
 * The frames of one streamed answer, pulled from the router stream: the start frames with the parts read
 * while opening (and the encoder's `afterHead`), then the frames of each part as it comes (one string per
 * part; parts that encode to nothing are skipped), then, once the outcome is settled (ledger, budget, metrics), the finish frames or
 * the protocol's error event (never a silent end; none once the client is gone). `return()` (the
 * client went away) settles a stream that has not settled as `aborted` (aborting the upstream call first)
 * and closes the router stream. A client that stops reading is given up on, whatever the router stream is: a model's by
 * the router (`consumerIdleMs`, `totalMs`: `routerFailed`); one the router does not watch (an escalated cascade's, a
 * cache hit's replay) here too, once a write has not drained for `options.idleMs` (the client took nothing of what was
 * buffered) or the reader asked for no frame that long (`clientIdle`); whichever comes first settles the call (`error`,
 * code `timeout`), exactly once, its error event the next frame. A hand-written iterator rather than an async generator: each part costs one
 * promise reaction instead of the generator's await and yield. Calls are served one after another.
 *
 * The encoder is told the answer's usage so far in `usage` parts, counted as `answerUsage` counts the result
 * for the finish: a router cache hit's cache reads and writes are 0. An escalated cascade's strong step reports
 * its own usage (`RouterStream.spent` has the weak step's, without a router cache hit's provider-cache counts, and
 * the prompts of failed attempts and losing hedge lanes, each in its `failedAttempts`, which the answer's usage leaves out):
 * the encoder gets the weak step's spend as a `usage` part right after the start, and each of the strong
 * step's `usage` parts with that spend added (its own counts as its provider's cache saw them: none for a hit),
 * as the cascade's result sums the two. Billing a broken stream keeps the parts' own usage (`lastUsage`): the
 * settlement adds the spend and leaves out a hit's counts itself.
 */
export class SseFrames implements AsyncIterator<string, void> {
  private phase: 'start' | 'parts' | 'last' | 'closed' = 'start';
  /** The call in progress; later calls wait for it. */
  private busy: Promise<Result> | undefined;
  private settled = false;
  private finish: FinishPart | undefined;
  private lastUsage: Usage | undefined;
  private readonly produced = new ProducedText();
  /** The client went away (`cancel`): the reason the router stream was cancelled with. */
  private gone: DOMException | undefined;
  /** The stream was ended early with this error, the client still there (`interrupt`). */
  private cut: LLMError | undefined;
  /** ms from the call to the first content part the wire carries (`StreamOutcome.ttftMs`), once it came. */
  private ttftMs: number | undefined;
  /** The router stream's failure is watched (`routerFailed`): from the first stalled write, or the first `next()`. */
  private watching = false;
  /** The sink whose `drained()` the pipe waits for (a stalled write), while it waits. */
  private stalled: FrameSink | undefined;
  /** The last frames of a stream given up on while nobody asked for a frame (`routerFailed`, `clientIdle`), until sent. */
  private lastFrame: Promise<Result> | undefined;
  /** The transport's `FrameSink.abandon` for a stream read through `next()` (`onAbandon`). */
  private abandonRead: (() => void) | undefined;
  /** Calls of `next()` so far, and at the last idle check (`idleCheck`: the web path's bound). */
  private asked = 0;
  private askedAtCheck = 0;
  /** The web path's idle check (`idleCheck`), while one is due. */
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly opened: OpenedStream,
    private readonly enc: HeadEncoder,
    private readonly options: SseResponseOptions,
  ) {}

  next(): Promise<Result> {
    this.asked++;
    if (this.busy) return this.busy.then(() => this.next());
    switch (this.phase) {
      case 'start': {
        this.watch();
        const idle = this.options.idleMs;
        if (idle !== undefined) this.idleTimer = setTimeout(SseFrames.idleCheck, idle, this);
        const first = this.begin();
        return typeof first === 'string' ? Promise.resolve(frame(first)) : (this.busy = this.cleared(first));
      }
      case 'parts':
        return (this.busy = this.pull());
      case 'last': {
        const last = this.lastFrame;
        if (last !== undefined) {
          this.lastFrame = undefined;
          return last;
        }
        return (this.busy = this.cleared(this.close()));
      }
      default:
        return Promise.resolve(DONE);
    }
  }

  /**
   * Writes the frames `next()` would give, in the same pieces, to `sink` until the end (the Node adapter's
   * path), waiting for `sink.drained()` after a write that was buffered. One loop that awaits the router
   * stream's own promise per part, where `next()` makes one more per frame and its caller awaits that.
   * Served as a call: `next()` and `return()` wait for it (a client that goes away: `cancel()`, which ends a
   * waiting pull; a stream the client left while its frames were being written is closed as `return()` would).
   */
  pipe(sink: FrameSink): Promise<void> {
    if (this.busy) return this.busy.then(() => this.pipe(sink));
    const run = (this.busy = this.piped(sink));
    return run.then(
      () => {
        this.busy = undefined;
      },
      (e: unknown) => {
        this.busy = undefined;
        throw e;
      },
    );
  }

  private async piped(sink: FrameSink): Promise<Result> {
    // A client gone is noticed after a write, as the pull loop over `next()` notices it: parts that send
    // nothing (the finish part) are still read, so a stream whose finish was already on its way settles as it ends.
    let wrote = false;
    for (;;) {
      let out: string | Promise<Result> | undefined;
      switch (this.phase) {
        case 'start':
          out = this.begin();
          break;
        case 'parts':
          if (this.gone && wrote) {
            out = this.close();
            break;
          }
          try {
            out = this.read(await this.opened.iterator.next());
          } catch (e) {
            // A rejected pull, or an iterator that throws instead of rejecting, as `pull()` takes them.
            out = this.fail(e);
          }
          break;
        case 'last':
          out = this.lastFrame ?? this.close();
          this.lastFrame = undefined;
          break;
        default:
          return DONE;
      }
      if (out === undefined) {
        wrote = false;
        continue;
      }
      let text: string;
      if (typeof out === 'string') text = out;
      else {
        const r = await out;
        if (r.done) return DONE;
        text = r.value;
      }
      wrote = true;
      if (!sink.write(text)) {
        // Stalled: the router may give up on this client meanwhile (`routerFailed`), and this stream does after
        // `idleMs` (`clientIdle`). No work per write that did not stall: one timer while a write is stalled.
        this.watch();
        this.stalled = sink;
        const idle = this.options.idleMs;
        const timer = idle === undefined ? undefined : setTimeout(SseFrames.stalledTooLong, idle, this);
        await sink.drained();
        if (timer !== undefined) clearTimeout(timer);
        this.stalled = undefined;
      }
    }
  }

  /**
   * The transport's `FrameSink.abandon` for a stream read through `next()` (`replyToResponse`'s `abandon`: the Node
   * server's `gateway.fetch` path), called as `pipe`'s sink's is once the stream gave up on its client.
   */
  onAbandon(abandon: () => void): void {
    this.abandonRead = abandon;
  }

  /** Watches the router stream's failure from now on (once): see `routerFailed`. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    // (Only a rejection is of use here: `.catch`. A fulfilment handler would make the router read a stream not yet
    // iterated (core's `StreamResult`), which cannot happen here (`openStream` took the iterator); none is needed. A
    // closure made here, not a field: a stream that never stalls makes none.)
    this.opened.stream.result.catch((e: unknown) => this.routerFailed(e));
  }

  /** A write has not drained for `idleMs`: the client took nothing of what was buffered (`pipe`). */
  private static stalledTooLong(frames: SseFrames): void {
    frames.clientIdle();
  }

  /**
   * The web path's bound (`next()`; one timer per stream, re-armed every `idleMs`): a stream whose reader has not asked
   * for a frame since the last check (nor waits for one: `busy`) is given up on (`clientIdle`), 1 to 2 `idleMs` after its
   * last frame was taken.
   */
  private static idleCheck(frames: SseFrames): void {
    frames.idleTimer = undefined;
    if (frames.settled || frames.gone || frames.phase === 'last' || frames.phase === 'closed') return;
    if (frames.busy !== undefined || frames.asked !== frames.askedAtCheck) {
      frames.askedAtCheck = frames.asked;
      frames.idleTimer = setTimeout(SseFrames.idleCheck, frames.options.idleMs, frames);
      return;
    }
    frames.clientIdle();
  }

  /**
   * The client has not taken anything for `idleMs` (a write stalled that long, or the web path's reader asked for no
   * frame): the stream is given up on as the router gives up on a consumer that does not pull (whose bound covers only a
   * stream holding an attempt: not an escalated cascade's, whose own stream fails on its next pull only, nor a cache
   * hit's replay). The router stream is cancelled (the upstream call stops), and the call settled as that `timeout`
   * (`cut`: whatever the cancelled stream then says), its error event the next frame (`gaveUp`). Nothing once the
   * stream settled, ended early, or the client is gone.
   */
  private clientIdle(): void {
    if (this.settled || this.gone || this.cut || this.phase === 'last' || this.phase === 'closed') return;
    const sink = this.stalled;
    if (sink === undefined && this.busy !== undefined) return;
    const error = new LLMError({
      code: 'timeout',
      message: `Timed out: the stream was abandoned: its consumer did not ask for the next part within consumerIdleMs (${this.options.idleMs} ms)`,
    });
    this.cut = error;
    try {
      this.opened.stream.cancel?.(error);
    } catch {
      // (A wrapped router's `cancel` may throw: its call's own controller is still aborted. Nobody to throw to: a timer.)
    }
    this.options.abort?.abort(error);
    this.gaveUp(error, sink);
  }

  /**
   * The router stream failed while nothing here was reading it: the router gave up on a client that stopped reading,
   * held back by a write to it that waits for `drained()` or by a transport that does not ask for the next frame (its
   * `.result` rejects with `timeout`, after `timeouts.consumerIdleMs` without a pull or at `totalMs`, and a later pull
   * would get that error). The call is settled now as that failure (not when, if ever, the client reads again), its
   * error event is the next frame, and a stalled sink is told (`FrameSink.abandon`: it drops a response not written in
   * time). A failure a pull in progress will see, another failure (a stream that still has parts to read), a settled
   * stream or a client gone: nothing here.
   */
  private routerFailed(e: unknown): void {
    if (this.settled || this.gone || this.phase === 'last' || this.phase === 'closed') return;
    if (!LLMError.isInstance(e) || e.code !== 'timeout') return;
    const sink = this.stalled;
    if (sink === undefined && this.busy !== undefined) return;
    this.gaveUp(e, sink);
  }

  /**
   * The stream gave up on its client with `e` (`routerFailed`, `clientIdle`): settled now, nothing more read from the
   * router stream; the next frame is the error event (`lastFrame`), then the end. The transport is told (`abandon`).
   */
  private gaveUp(e: unknown, sink: FrameSink | undefined): void {
    this.phase = 'last';
    const last = this.fail(e);
    this.lastFrame = last;
    if (sink !== undefined) sink.abandon?.();
    else {
      // (The pipe's own call is in `busy`; a `next()` now waits for the settlement, then gets the error event.)
      this.busy = this.cleared(last);
      this.abandonRead?.();
    }
  }

  /** The first frame: the start frames with the head's (and `afterHead`'s), or a failure's outcome. */
  private begin(): string | Promise<Result> {
    this.phase = 'parts';
    try {
      let first = join(this.enc.start(this.opened.route));
      const weak = this.escalatedFrom();
      if (weak) first += join(this.enc.part({ type: 'usage', usage: weak }));
      const head = this.opened.head;
      for (const part of head) first += this.handle(part);
      // The head ends with the first content part or the finish (`openStream`), which came at `firstPartMs`.
      const last = head[head.length - 1];
      if (last !== undefined && (last.type === 'finish' || this.carries(last))) this.ttftMs = this.opened.firstPartMs;
      if (this.enc.afterHead) first += join(this.enc.afterHead());
      return first;
    } catch (e) {
      return this.fail(e);
    }
  }

  return(): Promise<Result> {
    if (this.busy) return this.busy.then(() => this.return());
    if (this.phase === 'closed') return Promise.resolve(DONE);
    return (this.busy = this.cleared(this.close()));
  }

  /**
   * The client went away (its response body was cancelled): the router stream is cancelled (the upstream call
   * stops and a waiting pull ends), so that what follows settles the stream as `aborted`. A router stream
   * without `cancel` (a wrapped router's) stops when the call's own controller (`options.abort`, its signal)
   * aborts, and is closed by `return()`.
   */
  cancel(): void {
    if (this.gone) return;
    const gone = new DOMException('This operation was aborted', 'AbortError');
    this.gone = gone;
    this.opened.stream.cancel?.(gone);
    this.options.abort?.abort(gone);
  }

  /**
   * Ends the stream with `error`, the client still there (a server's shutdown grace ended): the router stream is
   * cancelled as for `cancel()` (a waiting pull ends), and the failure that follows is settled as `error` and sent
   * as the protocol's error event. Nothing once the stream settled or the client is gone.
   */
  interrupt(error: LLMError): void {
    if (this.settled || this.gone || this.cut || this.phase === 'closed' || this.options.signal?.aborted) return;
    this.cut = error;
    // (A wrapped router's `cancel` may throw: the call's own controller is still aborted, and the throw is the caller's.)
    try {
      this.opened.stream.cancel?.(error);
    } finally {
      this.options.abort?.abort(error);
    }
  }

  private pull(): Promise<Result> {
    let next: Promise<IteratorResult<RouterStreamPart>>;
    try {
      next = this.opened.iterator.next();
    } catch (e) {
      // An iterator that throws instead of rejecting still ends the stream with its error event.
      return this.onError(e);
    }
    return next.then(this.onNext, this.onError);
  }

  private readonly onNext = (next: IteratorResult<RouterStreamPart>): Result | Promise<Result> => {
    const out = this.read(next);
    if (out === undefined) return this.pull();
    if (typeof out === 'string') {
      this.busy = undefined;
      return frame(out);
    }
    return this.cleared(out);
  };

  /** What a pulled part sends: its frames, nothing (`undefined`: pull the next), or the stream's end or failure. */
  private read(next: IteratorResult<RouterStreamPart>): string | Promise<Result> | undefined {
    try {
      if (next.done) return this.end();
      const part = next.value;
      if (part.type === 'error') return this.fail(part.error);
      if (part.type !== 'route' && !this.finish) {
        if (this.ttftMs === undefined && this.carries(part)) this.ttftMs = this.opened.now() - this.opened.startedAt;
        const text = this.handle(part);
        if (text !== '') return text;
      }
      return undefined;
    } catch (e) {
      return this.fail(e);
    }
  }

  private readonly onError = (e: unknown): Promise<Result> => this.cleared(this.fail(e));

  /** `p`, clearing `busy` once it settles. */
  private cleared(p: Promise<Result>): Promise<Result> {
    return p.then(
      (r) => {
        this.busy = undefined;
        return r;
      },
      (e: unknown) => {
        this.busy = undefined;
        throw e;
      },
    );
  }

  /** `part` is content the client's wire carries (`StreamEncoder.carriesContent`). */
  private carries(part: StreamPart): boolean {
    return this.enc.carriesContent ? this.enc.carriesContent(part) : isContentPart(part);
  }

  private handle(part: StreamPart): string {
    this.produced.add(part);
    if (part.type === 'finish') {
      this.finish = part;
      this.lastUsage = part.usage;
      return '';
    }
    if (part.type === 'usage') {
      this.lastUsage = part.usage;
      const usage = this.answered(part.usage);
      if (usage !== part.usage) return join(this.enc.part({ type: 'usage', usage }));
    }
    return join(this.enc.part(part));
  }

  /** A `usage` part's usage as the answer reports it so far (see the class comment). */
  private answered(usage: Usage): Usage {
    const cached = this.opened.route.cached;
    const weak = this.escalatedFrom();
    return weak ? sumUsage(weak, providerCacheUsage(usage, cached)) : answerUsage({ usage, cached });
  }

  /**
   * An escalated cascade's weak step answer's usage, when the parts are the strong step's (see the class comment): the
   * stream's spend less its failed attempts' (attempts cut after their usage part, hedge lanes that lost: billed, but
   * not in the answer's usage), none when nothing else is in it (a plain router stream's spend is only those).
   */
  private escalatedFrom(): Usage | undefined {
    const spent = this.opened.stream.spent?.();
    return spent && !spent.replay ? answersIn(spent) : undefined;
  }

  private async settleOnce(outcome: StreamOutcome): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    await this.options.settle(outcome);
  }

  /** The router stream ended: the finish frames, settle the success, then send them. */
  private async end(): Promise<Result> {
    try {
      const finish = this.finish;
      if (!finish) throw new LLMError({ code: 'stream_interrupted', message: 'The upstream stream ended without a finish event' });
      let result: RouterResult;
      try {
        result = await this.opened.stream.result;
      } catch (e) {
        throw toLLMError(e);
      }
      // The finish frames first: an encoder that cannot finish (tool-call arguments sent live that the
      // result contradicts) makes this an error, settled and ledgered as one, not a success, with the
      // result's usage and cost (a cascade's result already includes its weak step).
      let text: string;
      try {
        text = join(this.enc.finish(finish, result));
      } catch (e) {
        return this.fail(e, result);
      }
      // An answer whose wire carried no content: its time to first token is its end's.
      const ttftMs = this.ttftMs ?? this.opened.now() - this.opened.startedAt;
      await this.settleOnce({ status: 'success', result, ttftMs });
      this.phase = 'last';
      return frame(text);
    } catch (e) {
      return this.fail(e);
    }
  }

  /**
   * The stream broke (or settling its success failed): settle the failure, then the error event unless the
   * client is gone. Only the client's own signal or cancel says it is gone: an `aborted` error from the stream
   * while the client is still there (the router gave up on a stream the gateway did not pull from in time,
   * held back by a slow client) is an error the client is told about, and settled as one. `result`: the
   * router's complete result, when the failure came after it (the encoder could not finish): the failure is
   * settled with its usage and cost, exactly once.
   */
  private async fail(e: unknown, result?: RouterResult): Promise<Result> {
    const { signal, requestId } = this.options;
    try {
      // The client went away (its signal, or the body cancelled): the failure is its abort, whatever the stream said.
      // Ended early (`interrupt`, which aborts the call's own signal too): the failure is that error.
      const cut = this.gone ? undefined : this.cut;
      const aborted = !cut && (signal?.aborted === true || this.gone !== undefined);
      const error = cut ?? (signal?.aborted ? toLLMError(signal.reason ?? e) : this.gone ? toLLMError(this.gone) : toLLMError(e));
      await this.settleOnce({
        status: aborted ? 'aborted' : 'error',
        error,
        usage: this.lastUsage,
        ...(this.finish ? { finishReason: this.finish.finishReason } : {}),
        ttftMs: this.ttftMs,
        outputText: this.produced.text(),
        ...(result ? { result } : {}),
      }).catch(() => {});
      if (!aborted) {
        const text = join(this.enc.error(toPublicError(error), requestId));
        this.phase = 'last';
        return frame(text);
      }
    } catch (thrown) {
      await this.close();
      throw thrown;
    }
    return this.close();
  }

  /** Nothing more to send: a stream not settled yet is the client's abort; the router stream is closed. */
  private async close(): Promise<Result> {
    this.phase = 'closed';
    if (!this.settled) {
      this.cancel();
      await this.settleOnce({
        status: 'aborted',
        error: toLLMError(Object.assign(new Error('The client closed the stream'), { name: 'AbortError' })),
        usage: this.lastUsage,
        ttftMs: this.ttftMs,
        outputText: this.produced.text(),
      }).catch(() => {});
    }
    await this.opened.iterator.return?.().catch(() => {});
    return DONE;
  }
}
