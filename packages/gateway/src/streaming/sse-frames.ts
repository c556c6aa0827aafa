import { LLMError, toLLMError, type RouterResult, type RouterStreamPart, type StreamPart, type Usage } from '@llmrr/core';
import { toPublicError } from '../http/error-body.js';
import type { OpenedStream } from './open-stream.js';
import { ProducedText } from './produced-text.js';
import type { FinishPart, SseResponseOptions, StreamEncoder, StreamOutcome } from './sse-response.js';

type Result = IteratorResult<string, void>;

const DONE: IteratorReturnResult<void> = { done: true, value: undefined };
const frame = (value: string): IteratorYieldResult<string> => ({ done: false, value });

function join(frames: string[]): string {
  return frames.length === 1 ? frames[0]! : frames.join('');
}

/**
 * The frames of one streamed answer, pulled from the router stream: the start frames with the parts read
 * while opening, then the frames of each part as it comes (one string per part; parts that encode to
 * nothing are skipped), then, once the outcome is settled (ledger, budget, metrics), the finish frames or
 * the protocol's error event (never a silent end; none for an abort, whose client is gone). `return()` (the
 * client went away) settles a stream that has not settled as `aborted` (aborting the upstream call first)
 * and closes the router stream. A hand-written iterator rather than an async generator: each part costs one
 * promise reaction instead of the generator's await and yield. Calls are served one after another.
 */
export class SseFrames implements AsyncIterator<string, void> {
  private phase: 'start' | 'parts' | 'last' | 'closed' = 'start';
  /** The call in progress; later calls wait for it. */
  private busy: Promise<Result> | undefined;
  private settled = false;
  private finish: FinishPart | undefined;
  private lastUsage: Usage | undefined;
  private readonly produced = new ProducedText();

  constructor(
    private readonly opened: OpenedStream,
    private readonly enc: StreamEncoder,
    private readonly options: SseResponseOptions,
  ) {}

  next(): Promise<Result> {
    if (this.busy) return this.busy.then(() => this.next());
    switch (this.phase) {
      case 'start': {
        this.phase = 'parts';
        let first: string;
        try {
          first = join(this.enc.start(this.opened.route));
          for (const part of this.opened.head) first += this.handle(part);
        } catch (e) {
          return (this.busy = this.cleared(this.fail(e)));
        }
        return Promise.resolve(frame(first));
      }
      case 'parts':
        return (this.busy = this.pull());
      case 'last':
        return (this.busy = this.cleared(this.close()));
      default:
        return Promise.resolve(DONE);
    }
  }

  return(): Promise<Result> {
    if (this.busy) return this.busy.then(() => this.return());
    if (this.phase === 'closed') return Promise.resolve(DONE);
    return (this.busy = this.cleared(this.close()));
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
    try {
      if (next.done) return this.cleared(this.end());
      const part = next.value;
      if (part.type === 'error') return this.cleared(this.fail(part.error));
      if (part.type !== 'route' && !this.finish) {
        const text = this.handle(part);
        if (text !== '') {
          this.busy = undefined;
          return frame(text);
        }
      }
      return this.pull();
    } catch (e) {
      return this.cleared(this.fail(e));
    }
  };

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

  private handle(part: StreamPart): string {
    this.produced.add(part);
    if (part.type === 'finish') {
      this.finish = part;
      this.lastUsage = part.usage;
      return '';
    }
    if (part.type === 'usage') this.lastUsage = part.usage;
    return join(this.enc.part(part));
  }

  private async settleOnce(outcome: StreamOutcome): Promise<void> {
    if (this.settled) return;
    this.settled = true;
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
      await this.settleOnce({ status: 'success', result, firstPartMs: this.opened.firstPartMs });
      this.phase = 'last';
      return frame(text);
    } catch (e) {
      return this.fail(e);
    }
  }

  /**
   * The stream broke (or settling its success failed): settle the failure, then the error event unless
   * aborted. `result`: the router's complete result, when the failure came after it (the encoder could not
   * finish): the failure is settled with its usage and cost, exactly once.
   */
  private async fail(e: unknown, result?: RouterResult): Promise<Result> {
    const { abort, requestId } = this.options;
    try {
      const error = abort.signal.aborted ? toLLMError(abort.signal.reason ?? e) : toLLMError(e);
      const aborted = abort.signal.aborted || error.code === 'aborted';
      await this.settleOnce({
        status: aborted ? 'aborted' : 'error',
        error,
        usage: this.lastUsage,
        ...(this.finish ? { finishReason: this.finish.finishReason } : {}),
        firstPartMs: this.opened.firstPartMs,
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
      this.options.abort.abort();
      await this.settleOnce({
        status: 'aborted',
        error: toLLMError(Object.assign(new Error('The client closed the stream'), { name: 'AbortError' })),
        usage: this.lastUsage,
        firstPartMs: this.opened.firstPartMs,
        outputText: this.produced.text(),
      }).catch(() => {});
    }
    await this.opened.iterator.return?.().catch(() => {});
    return DONE;
  }
}
