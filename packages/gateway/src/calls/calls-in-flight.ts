import { timerDelay } from '@llmrr/core';

/**
 * Counts the model calls from their start to the end of their settlement (ledger row, limit release, budget
 * settlement), so the gateway's `close()` can wait for them: a call cut by a server's shutdown (its connection
 * closed at the end of the grace) settles a few ms later, and must be done before the owner closes the stores.
 * Per call a counter step up and one down; nothing is kept per call.
 */
export class CallsInFlight {
  private count = 0;
  /** Resolves the `drained()` waits once the count is 0. */
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Calls started whose settlement is not done. */
  get size(): number {
    return this.count;
  }

  /** A call starts; `ended` is called once when its settlement is done (or failed). */
  started(): void {
    this.count++;
  }

  readonly ended = (): void => {
    this.count--;
    if (this.count === 0 && this.idle) {
      const { resolve } = this.idle;
      this.idle = undefined;
      resolve();
    }
  };

  /**
   * Resolves `true` once no call is in flight, or `false` after `timeoutMs` with calls still in flight (one whose
   * answer nobody reads, one still running: closing does not end them).
   */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    const idle = this.idle.promise;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timerDelay(timeoutMs));
      void idle.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
