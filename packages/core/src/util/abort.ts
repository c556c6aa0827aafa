import { timerDelay } from './timer-delay.js';

/**
 * Set to `true` on a `fetch` (`RouterOptions.fetch`) or an engine that keeps two promises for every call given a
 * `signal`: it removes every abort listener it adds to that signal once the call is over (its answer read or failed,
 * or aborted), and it settles as soon as the signal aborts, wherever the call stands (waiting for a pool connection,
 * connecting, sending, reading): a call that must wait for something first races that wait against the abort. An
 * engine keeps them for its own listeners and its fetch's (the openai-compatible engine carries the marker when its
 * fetch does). The router then hands such an engine the call's signal itself (an `AttemptSignal` following the caller's,
 * which the router's `close()` aborts too: only to an engine that also takes one, `TAKES_ATTEMPT_SIGNALS`) for an attempt that needs no signal
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

/**
 * Set to `true` on a `fetch` (`RouterOptions.fetch`) or an engine whose calls use their `signal` only through an
 * `AbortSignal`'s `aborted`, `reason`, `throwIfAborted()`, `addEventListener('abort', fn, options)` and
 * `removeEventListener('abort', fn)`, or hand it only to what does the same (Node's `fetch`, `http.request`,
 * `events.once`, `timers/promises` do): such calls also take an `AttemptSignal`. Never to `AbortSignal.any`: it
 * accepts an `AttemptSignal` without an error, but its result never aborts when the `AttemptSignal` does, so a call
 * bounded that way (a deadline of its own) is never cancelled (core's `anySignal` and `withTimeout` follow one).
 * The router then gives a stream attempt on such an engine an `AttemptSignal` instead of an `AbortController`'s signal:
 * Node 20 makes every `AbortSignal` an `EventTarget` with a hidden class of its own (3-6 us each, and maps only a full
 * garbage collection frees), about a tenth of a stream's CPU before its first byte with 512 streams starting at once
 * (docs/benchmarks.md, twenty-fourth session). The openai-compatible engine carries the marker when its fetch does;
 * the gateway's `createUpstreamFetch` does. Set it (and `RELEASES_ABORT_LISTENERS`) as a non-enumerable property
 * (`Object.defineProperty`), so that a wrapper made with `Object.assign(wrapper, fetch)` or a spread, which may not keep the
 * promise, does not inherit it.
 */
export const TAKES_ATTEMPT_SIGNALS: unique symbol = Symbol.for('@llmrr/core.takesAttemptSignals');

/** Whether `value` (a fetch or an engine) says its calls take an `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`). */
export function takesAttemptSignals(value: unknown): boolean {
  return (typeof value === 'function' || (typeof value === 'object' && value !== null)) && (value as { [TAKES_ATTEMPT_SIGNALS]?: unknown })[TAKES_ATTEMPT_SIGNALS] === true;
}

/**
 * Sets the given markers (`RELEASES_ABORT_LISTENERS`, `TAKES_ATTEMPT_SIGNALS`) on `target` (a fetch or an engine) as
 * non-enumerable properties: `Object.assign` and spreads do not copy them to a wrapper that may not keep their promise.
 */
export function markAbortHandling<T extends object>(target: T, marks: { releasesAbortListeners?: boolean; takesAttemptSignals?: boolean }): T {
  if (marks.releasesAbortListeners !== undefined) Object.defineProperty(target, RELEASES_ABORT_LISTENERS, { value: marks.releasesAbortListeners, enumerable: false, configurable: true, writable: false });
  if (marks.takesAttemptSignals !== undefined) Object.defineProperty(target, TAKES_ATTEMPT_SIGNALS, { value: marks.takesAttemptSignals, enumerable: false, configurable: true, writable: false });
  return target;
}

type AbortListener = ((this: AttemptSignal, event: { type: 'abort'; target: AttemptSignal }) => void) | { handleEvent(event: { type: 'abort'; target: AttemptSignal }): void };

/**
 * The part of an `AbortSignal` that a call marked `TAKES_ATTEMPT_SIGNALS` uses, without an `EventTarget`: `aborted`,
 * `reason`, `throwIfAborted()`, and `abort` listeners as an `AbortSignal` calls them: in the order they were added (also
 * after a removal), a listener added twice only once, one removed by an earlier listener during the abort not called,
 * `{ signal }` honoured (the listener is removed when that signal aborts; not added when it is aborted already); every
 * listener is dropped as the signal aborts, which it does once, so `{ once: true }` changes nothing; one that throws is
 * reported as an uncaught exception, as an `EventTarget` reports it, and the others still run. Aborted only by its
 * owner (`AttemptSignalController`). Not an `AbortSignal`: `AbortSignal.any` takes it but never aborts with it (use
 * `anySignal`, which does).
 */
export class AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  /** The listeners: the first in a field (what a call adds), the ones after it in a list (in the order added). */
  private one: AbortListener | undefined;
  private more: Array<AbortListener | undefined> | undefined;

  addEventListener(type: string, fn: AbortListener | null | undefined, options?: boolean | { once?: boolean; signal?: AbortSignal | undefined }): void {
    if (type !== 'abort' || fn == null || this.aborted || this.one === fn || this.more?.includes(fn) === true) return;
    const until = typeof options === 'object' && options !== null ? options.signal : undefined;
    if (until != null) {
      if (until.aborted) return;
      until.addEventListener('abort', () => this.removeEventListener('abort', fn), { once: true });
    }
    // The field only while no listener is in the list: a listener added later is called later.
    if (this.one === undefined && (this.more === undefined || this.more.length === 0)) this.one = fn;
    else (this.more ??= []).push(fn);
  }

  removeEventListener(type: string, fn: AbortListener | null | undefined): void {
    if (type !== 'abort' || fn == null) return;
    if (this.one === fn) this.one = undefined;
    else if (this.more) {
      const i = this.more.indexOf(fn);
      // While the abort calls the list, a hole (it is walked by index): a removed listener is skipped.
      if (i >= 0) {
        if (this.aborted) this.more[i] = undefined;
        else this.more.splice(i, 1);
      }
    }
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts with `reason` (a `DOMException` named `AbortError` when undefined, as `AbortController.abort()` does); once. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const event = { type: 'abort' as const, target: this };
    // Every listener is let go (a signal aborts once): each as it is called, the list after the last; one removed by
    // an earlier listener meanwhile is not called, and none is added once aborted.
    const one = this.one;
    this.one = undefined;
    if (one !== undefined) this.call(one, event);
    const more = this.more;
    if (more === undefined) return;
    for (let i = 0; i < more.length; i++) {
      const fn = more[i];
      if (fn === undefined) continue;
      more[i] = undefined;
      this.call(fn, event);
    }
    this.more = undefined;
  }

  private call(fn: AbortListener, event: { type: 'abort'; target: AttemptSignal }): void {
    try {
      if (typeof fn === 'function') fn.call(this, event);
      else fn.handleEvent(event);
    } catch (e) {
      // As an EventTarget reports a listener's throw: an uncaught exception, after the other listeners ran.
      queueMicrotask(() => {
        throw e;
      });
    }
  }
}

/** An `AbortController` for an `AttemptSignal` (see `TAKES_ATTEMPT_SIGNALS`); its `signal` is typed as the `AbortSignal` it stands for. */
export class AttemptSignalController {
  readonly #signal = new AttemptSignal();

  get signal(): AbortSignal {
    return this.#signal as unknown as AbortSignal;
  }

  abort(reason?: unknown): void {
    this.#signal.abort(reason);
  }
}

/**
 * One signal that aborts when any of the given ones does (undefined entries are ignored). An `AttemptSignal` among
 * them is followed through an `AbortController` of its own (`AbortSignal.any` would take it and never abort with it).
 */
export function anySignal(signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const real = signals.filter((s): s is AbortSignal => s !== undefined);
  if (real.length === 0) return undefined;
  if (real.length === 1) return real[0];
  for (let i = 0; i < real.length; i++) if (real[i] instanceof AttemptSignal) real[i] = followed(real[i] as unknown as AttemptSignal);
  return AbortSignal.any(real);
}

/** An `AbortSignal` that aborts with `signal` (an `AttemptSignal`, short-lived: its listener holds the controller). */
function followed(signal: AttemptSignal): AbortSignal {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason));
  return controller.signal;
}

/** A signal that aborts after `ms` with a `TimeoutError`, combined with `signal` (an `AttemptSignal` too, see `anySignal`). */
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
