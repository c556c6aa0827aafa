/**
 * `work()`'s promise, or a rejected one when it throws synchronously: a custom store (plain JS) may throw instead of
 * rejecting, and its failure is then handled as a rejection is (logged, tried again), never thrown out of a timer's
 * tick or a promise callback (an uncaught exception) nor left as an unhandled rejection. Every call of a store method
 * whose failure is handled with `.catch` goes through it.
 */
export function settled<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (e) {
    return Promise.reject(e);
  }
}
