/**
 * A stream's `.result` that reads the stream when it is awaited before the stream is iterated (`StreamResult`, `Drain`,
 * `handOver`): a router's stream is lazy (nothing runs until its first pull), and `await router.stream(p).result` must
 * settle, as the result promises of streaming SDKs do (they consume the stream).
 */
import type { RouterStreamPart } from './types.js';

/** The end result every finished pull shares. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function noop(): void {}

/**
 * A router stream's `.result`: a promise that tells its stream when a fulfilment handler is attached (`await`, `.then(fn)`;
 * not `.catch`), so that a stream whose result is awaited without being iterated is read by the router (`Drain`).
 * Anything that attaches one starts the stream too: `.finally(fn)` (it calls `then` with handlers of its own),
 * `Promise.race([result])`, `Promise.all`, `Promise.resolve(result)`, an async function returning it. Only `.catch`
 * (and the router's own `whenSettled`) leaves the stream lazy. Promises derived from it are plain ones.
 */
export class StreamResult<T, O = unknown> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  /**
   * Called once, with this promise, when the first fulfilment handler is attached: a module-level function that finds
   * its stream in `owner` (a closure made per stream and kept on its promise nearly doubled a router stream's CPU on the
   * mock engine, through the garbage collector: docs/benchmarks.md, twenty-fifth session).
   */
  onAwait: ((result: StreamResult<T, O>) => void) | undefined;
  /** The stream's state, for `onAwait` (which lets go of it: a kept `.result` holds no stream state). */
  owner: O | undefined;

  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const armed = this.onAwait;
    if (armed !== undefined && typeof onfulfilled === 'function') {
      this.onAwait = undefined;
      armed(this);
    }
    return super.then(onfulfilled, onrejected);
  }
}

/**
 * The router reading a stream whose `.result` was awaited before it was iterated, keeping the parts for an iterator
 * asked for later (`handOver`), which then takes over: the stream runs, `.result` settles, `request:end` is emitted.
 * The parts read are kept until such an iterator takes them, so a stream drained and never iterated holds all of them
 * for as long as the stream object lives (drop the stream, keep `.result`'s answer, to let them go).
 */
export class Drain {
  readonly parts: RouterStreamPart[] = [];
  /** The pull in progress. */
  pulling: Promise<IteratorResult<RouterStreamPart>> | undefined;
  /** An iterator took over: no further pull here. */
  handed = false;
  /** The stream ended. */
  done = false;

  constructor(
    readonly iterator: AsyncIterator<RouterStreamPart>,
    /** Ends the stream at once (`cancelStream`: a pull of the drain's may be waiting). */
    readonly cancel: () => void,
  ) {
    void this.run();
  }

  private async run(): Promise<void> {
    while (!this.handed) {
      const pull = (this.pulling = this.iterator.next());
      let r: IteratorResult<RouterStreamPart>;
      try {
        r = await pull;
      } catch {
        r = DONE;
      }
      if (this.pulling === pull) this.pulling = undefined;
      if (r.done) {
        this.done = true;
        return;
      }
      this.parts.push(r.value);
    }
  }
}

/** The iterator of a stream its `Drain` was reading: the parts read, then the stream itself. */
export async function* handOver(d: Drain): AsyncGenerator<RouterStreamPart> {
  try {
    for (;;) {
      while (d.parts.length > 0) yield d.parts.shift()!;
      // The drain's pull in flight lands in `parts` (its reaction runs before this one's).
      const pulling = d.pulling;
      if (pulling !== undefined) {
        await pulling.then(noop, noop);
        continue;
      }
      if (d.done) return;
      const r = await d.iterator.next();
      if (r.done) {
        d.done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    // Closed early (a `break`): the stream ends as cancelled by its consumer (the drain's pull may still be waiting).
    if (!d.done) d.cancel();
  }
}

/**
 * `result.then(onFulfilled, onRejected)` without asking the stream to be read: a router's own bookkeeping on a stream it
 * hands out (the consumer decides when the stream runs).
 */
export function whenSettled<T>(result: Promise<T>, onFulfilled: (value: T) => void, onRejected: (e: unknown) => void): void {
  void Promise.prototype.then.call(result, onFulfilled, onRejected);
}
