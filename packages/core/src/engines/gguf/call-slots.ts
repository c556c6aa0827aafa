import type { LLMError } from '../../errors/llm-error.js';

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

/**
 * At most `max` calls at once; up to `maxQueued` more wait for a slot in arrival order, each until its signal aborts
 * (then it leaves the queue, rejected with the signal's reason). A call past that is refused at once with `full()`.
 * A slot freed goes straight to the first waiting call.
 */
export class CallSlots {
  #running = 0;
  readonly #waiting: Waiter[] = [];

  constructor(
    readonly max: number,
    readonly maxQueued: number,
    private readonly full: (running: number, waiting: number) => LLMError,
  ) {}

  /**
   * Takes a slot: undefined when one was free (nothing to wait for), else a promise that resolves when the call's turn
   * comes (the slot is then the call's). Throws `full()` when the queue is full, the signal's reason when it is aborted.
   * Every slot taken is given back with `release()`.
   */
  acquire(signal: AbortSignal): Promise<void> | undefined {
    if (signal.aborted) throw signal.reason;
    if (this.#running < this.max) {
      this.#running++;
      return undefined;
    }
    if (this.#waiting.length >= this.maxQueued) throw this.full(this.#running, this.#waiting.length);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Gives a slot back: to the first waiting call, else free. */
  release(): void {
    const next = this.#waiting.shift();
    if (!next) {
      this.#running--;
      return;
    }
    next.signal.removeEventListener('abort', next.onAbort);
    next.resolve();
  }
}
