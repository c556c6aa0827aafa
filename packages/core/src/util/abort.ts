import { timerDelay } from './timer-delay.js';

/**
 * Set to `true` on a `fetch` (`RouterOptions.fetch`) or an engine that keeps two promises for every call given a
 * `signal`: it removes every abort listener it adds to that signal once the call is over (its answer read or failed,
 * or aborted), and it settles as soon as the signal aborts, wherever the call stands (waiting for a pool connection,
 * connecting, sending, reading): a call that must wait for something first races that wait against the abort. An
 * engine keeps them for its own listeners and its fetch's (the openai-compatible engine carries the marker when its
 * fetch does). The router then hands such an engine the caller's signal itself for an attempt that needs no signal
 * of its own (no timeout, no hedging), instead of making an `AbortController` linked to it per attempt (a few
 * microseconds on Node 20), and does not race the attempt against the abort: answering the abort at once is the
 * marked fetch's duty, and a marked fetch that breaks it leaves the call pending until it settles. A long-lived
 * caller signal (one per keep-alive connection in the gateway) then collects no listeners. Node's global `fetch` is
 * not such a fetch (it leaves its listener on the signal until its request is garbage-collected).
 */
export const RELEASES_ABORT_LISTENERS: unique symbol = Symbol.for('@llmrr/core.releasesAbortListeners');

/** Whether `value` (a fetch or an engine) says it releases its abort listeners (`RELEASES_ABORT_LISTENERS`). */
export function releasesAbortListeners(value: unknown): boolean {
  return (typeof value === 'function' || (typeof value === 'object' && value !== null)) && (value as { [RELEASES_ABORT_LISTENERS]?: unknown })[RELEASES_ABORT_LISTENERS] === true;
}

/** One signal that aborts when any of the given ones does (undefined entries are ignored). */
export function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const real = signals.filter((s): s is AbortSignal => s !== undefined);
  if (real.length === 0) return undefined;
  if (real.length === 1) return real[0];
  return AbortSignal.any(real);
}

/** A signal that aborts after `ms` with a `TimeoutError`, combined with `signal`. */
export function withTimeout(signal: AbortSignal | undefined, ms: number | undefined): AbortSignal | undefined {
  if (ms === undefined || ms <= 0) return signal;
  return anySignal([signal, AbortSignal.timeout(timerDelay(ms))]);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, timerDelay(ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves with `promise`, or rejects with the signal's reason when it aborts first (the promise goes on). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
