/** A listener for one event's payload. */
export type Listener<T> = (payload: T) => void;

/** The remover of an `on()` that added nothing. */
const noop = (): void => {};

export interface TypedEmitterOptions {
  /**
   * Called when a listener throws. Listener errors never reach the code that emitted the event.
   * Default: `console.error`.
   */
  onListenerError?: (error: unknown, event: string) => void;
}

/**
 * A tiny typed event emitter. No Node-only APIs, so it runs on edge runtimes too.
 * `E` maps event names to payload types, e.g. `{ 'request:start': { requestId: string } }`.
 */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<keyof E, Array<Listener<never>>>();
  private readonly onListenerError: (error: unknown, event: string) => void;

  constructor(options: TypedEmitterOptions = {}) {
    this.onListenerError =
      options.onListenerError ??
      ((error, event) => {
        console.error(`[llmrr] listener for "${event}" threw:`, error);
      });
  }

  /**
   * Adds a listener; returns a function that removes it. A listener already added for the event is not added
   * again (as the DOM's `addEventListener`): one function is called once per event, so a learner subscribed by
   * two wirings (the router for a strategy's `onRequestEnd`, and the strategy's own `connect`) learns once.
   * The remover an ignored `on()` returns does nothing: it must not undo the registration someone else made
   * (`off(event, fn)` still removes it).
   */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const list = this.listeners.get(event);
    if (list?.includes(fn as Listener<never>)) return noop;
    // Copy on write: an emit in progress keeps iterating the old array.
    this.listeners.set(event, list ? [...list, fn as Listener<never>] : [fn as Listener<never>]);
    return () => this.off(event, fn);
  }

  /** Adds a listener called at most once. */
  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      fn(payload);
    });
    return off;
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const i = list.indexOf(fn as Listener<never>);
    if (i < 0) return;
    const next = list.slice(0, i).concat(list.slice(i + 1));
    if (next.length === 0) this.listeners.delete(event);
    else this.listeners.set(event, next);
  }

  /** True when someone listens: lets hot paths skip building payloads nobody reads. */
  has<K extends keyof E>(event: K): boolean {
    return this.listeners.has(event);
  }

  /** Calls every listener of `event`; a throwing listener is reported and the others still run. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const list = this.listeners.get(event) as Array<Listener<E[K]>> | undefined;
    if (!list) return;
    for (let i = 0; i < list.length; i++) {
      try {
        const out: unknown = list[i]!(payload);
        // An async listener's rejection must not become an unhandled rejection either.
        if (out !== undefined && typeof (out as PromiseLike<unknown>).then === 'function') {
          (out as Promise<unknown>).then(undefined, (error: unknown) => this.report(error, event));
        }
      } catch (error) {
        this.report(error, event);
      }
    }
  }

  private report(error: unknown, event: keyof E): void {
    try {
      this.onListenerError(error, String(event));
    } catch {
      // The error reporter itself failed: nothing sane is left to do.
    }
  }

  /** Removes every listener (of one event, or all). */
  clear(event?: keyof E): void {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
  }
}
