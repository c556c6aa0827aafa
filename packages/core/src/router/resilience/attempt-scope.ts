import { LLMError } from '../../errors/llm-error.js';
import { abortError, afterResponseError, toLLMError } from '../../errors/to-llm-error.js';
import { AttemptSignal } from '../../util/abort.js';
import { timerDelay } from '../../util/timer-delay.js';

export interface AttemptTimeouts {
  /** Until the first content part (streams) or the answer (generate). */
  firstTokenMs?: number | undefined;
  /** Whole attempt. */
  totalMs?: number | undefined;
  /** Streams: longest wait for the consumer's next pull (read by the router stream, not by the scope). */
  consumerIdleMs?: number | undefined;
}

/**
 * A controller that aborts when `parent` does; `dispose()` unhooks it. Every abort of its signal goes
 * through this class, so `onAbort` (called after the signal aborted) lets its owner react without a
 * listener of its own on the signal. `light`: its signal is an `AttemptSignal` (only for a call that takes one:
 * `TAKES_ATTEMPT_SIGNALS`), not an `AbortController`'s.
 */
export class LinkedController {
  /** The signal: an `AbortController`'s, or (`light`) an `AttemptSignal` this class aborts itself. */
  readonly signal: AbortSignal;
  private readonly controller: AbortController | undefined;
  /** The listener on an `EventTarget` parent; none on an `AttemptSignal` parent, which calls `handleEvent`. */
  private onParentAbort: (() => void) | undefined;
  /** The signal aborted (read without the signal's own getter, which checks its receiver on every call). */
  private isAborted = false;
  /** Called once, right after the signal aborted (not when it was born aborted). */
  onAbort: (() => void) | undefined;

  constructor(
    private readonly parent: AbortSignal | undefined,
    light = false,
  ) {
    if (light) this.signal = new AttemptSignal() as unknown as AbortSignal;
    else this.signal = (this.controller = new AbortController()).signal;
    if (!parent) return;
    if (parent.aborted) {
      this.isAborted = true;
      this.abortSignal(parent.reason);
      return;
    }
    // An `AttemptSignal` parent (a call's link, under which a stream attempt's scope is made) calls this object's
    // `handleEvent`: no listener closure per link. An `EventTarget` parent (the caller's signal) gets a closure, added
    // without `{ once: true }` (which makes Node allocate about 110 bytes more per listener): `dispose()` removes it,
    // and every owner disposes its link (a signal aborts once, and so does `abort`).
    if (parent instanceof AttemptSignal) parent.addEventListener('abort', this);
    else {
      this.onParentAbort = () => this.abort(parent.reason);
      parent.addEventListener('abort', this.onParentAbort);
    }
  }

  /** True once the signal aborted (every abort goes through this class). */
  get aborted(): boolean {
    return this.isAborted;
  }

  abort(reason?: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.abortSignal(reason);
    this.onAbort?.();
  }

  /** The `AttemptSignal` parent aborted (an abort listener as an object, see the constructor). */
  handleEvent(): void {
    this.abort(this.parent!.reason);
  }

  dispose(): void {
    const parent = this.parent;
    if (!parent) return;
    if (this.onParentAbort) parent.removeEventListener('abort', this.onParentAbort);
    else if (parent instanceof AttemptSignal) parent.removeEventListener('abort', this);
  }

  private abortSignal(reason: unknown): void {
    if (this.controller) this.controller.abort(reason);
    else (this.signal as unknown as AttemptSignal).abort(reason);
  }
}

/** Reason used when the router itself cancels an attempt (hedge loser, consumer stopped reading). */
export const CANCELLED = Symbol('llmrr.cancelled');

/**
 * The life of one attempt on one deployment: its abort signal (caller signal + timeouts +
 * router cancellation) and the mapping of whatever it threw to the right LLMError.
 */
export class AttemptScope {
  private readonly link: LinkedController;
  private firstTimer: ReturnType<typeof setTimeout> | undefined;
  private totalTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when one of our timers fired. */
  timeoutError: LLMError | undefined;

  constructor(
    parent: AbortSignal | undefined,
    timeouts: AttemptTimeouts,
    private readonly context: { deployment: string; provider?: string },
    /** The caller's own signal: its abort means `aborted`, never a retry. */
    private readonly callerSignal: AbortSignal | undefined,
    /** The attempt's signal is an `AttemptSignal` (its engine's calls take one: `TAKES_ATTEMPT_SIGNALS`). */
    light = false,
  ) {
    this.link = new LinkedController(parent, light);
    this.link.onAbort = this.aborting;
    if (timeouts.firstTokenMs !== undefined && timeouts.firstTokenMs > 0) {
      const ms = timeouts.firstTokenMs;
      this.firstTimer = setTimeout(() => this.timeout(`no first token from "${context.deployment}" within firstTokenMs ${ms} ms`), timerDelay(ms));
    }
    if (timeouts.totalMs !== undefined && timeouts.totalMs > 0) {
      const ms = timeouts.totalMs;
      this.totalTimer = setTimeout(() => this.timeout(`"${context.deployment}" did not finish within totalMs ${ms} ms`), timerDelay(ms));
    }
  }

  get signal(): AbortSignal {
    return this.link.signal;
  }

  get aborted(): boolean {
    return this.link.aborted;
  }

  /** The first content part (or the answer) arrived: the first-token timer no longer applies. */
  firstToken(): void {
    if (this.firstTimer !== undefined) clearTimeout(this.firstTimer);
    this.firstTimer = undefined;
  }

  /** Set while an engine that reports its provider request has not sent it yet (see `providerRequest`). */
  private unsent = false;

  /**
   * The `onProviderRequest` for an engine that declares `reportsProviderRequest`: until the engine calls it, the
   * attempt has not asked the provider, and its failure (a timeout while the engine downloads the prompt's image
   * URLs) says nothing about the deployment (`beforeProviderRequest`).
   */
  providerRequest(): () => void {
    this.unsent = true;
    return () => {
      this.unsent = false;
    };
  }

  /** The attempt ended before its engine sent the provider request (see `providerRequest`). */
  get beforeProviderRequest(): boolean {
    return this.unsent;
  }

  /** Set once the provider's success response to a non-streamed call arrived (see `providerResponse`). */
  private responded = false;

  /**
   * The `onProviderResponse` of a non-streamed attempt (or of a stream answered whole): once the engine calls it, the answer may be generated and
   * billed, so a timeout of this scope while the body is read is an `afterResponse` error (not sent again).
   * Undefined when the scope has no timer running (nothing to mark: the engine marks its own failures).
   */
  providerResponse(): (() => void) | undefined {
    if (this.firstTimer === undefined && this.totalTimer === undefined) return undefined;
    return () => {
      this.responded = true;
    };
  }

  /** Cancels the attempt on the router's behalf (not an error of the deployment). */
  cancel(): void {
    this.link.abort(CANCELLED);
  }

  /** True when the router cancelled this attempt (hedge loser, consumer gone). */
  get cancelled(): boolean {
    return this.link.aborted && this.link.signal.reason === CANCELLED;
  }

  /**
   * `promise`, or a rejection as soon as the attempt is aborted (for engines slow to honour the signal).
   * A stream races every part, so a race costs no listener of its own: the scope keeps the pending races'
   * rejecters (each removed when its promise settles, so a settled part is never kept reachable), and the
   * link's `onAbort` hook (every abort of the attempt's signal goes through the link) rejects them all.
   * One race at a time (what a stream and a generate do) is kept in a field; a Set only for more at once.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.link.aborted) {
      promise.then(undefined, () => {});
      return Promise.reject(this.link.signal.reason as unknown);
    }
    return new Promise<T>((resolve, reject) => {
      this.addRacer(reject);
      promise.then(
        (value) => {
          this.removeRacer(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.removeRacer(reject);
          reject(error);
        },
      );
    });
  }

  /** The rejecter of the race in progress, and of the others at the same time (see `race`). */
  private racer: ((reason: unknown) => void) | undefined;
  private racing: Set<(reason: unknown) => void> | undefined;

  private addRacer(reject: (reason: unknown) => void): void {
    if (this.racer === undefined) this.racer = reject;
    else (this.racing ??= new Set()).add(reject);
  }

  private removeRacer(reject: (reason: unknown) => void): void {
    if (this.racer === reject) this.racer = undefined;
    else this.racing?.delete(reject);
  }

  /** The owner's abort hook (see `watchAbort`). */
  private watcher: (() => void) | undefined;

  /**
   * Calls `hook` once, right after the attempt's signal aborts (not when it was born aborted), before the
   * pending races reject; `undefined` removes it. One hook at a time: what a router stream holding the attempt
   * watches, without an event listener of its own on the signal (adding and removing one costs more).
   */
  watchAbort(hook: (() => void) | undefined): void {
    this.watcher = hook;
  }

  /** The link's `onAbort`: every abort of the attempt's signal goes through it. */
  private readonly aborting = (): void => {
    this.watcher?.();
    const one = this.racer;
    const racing = this.racing;
    if (one === undefined && !racing) return;
    const reason = this.link.signal.reason as unknown;
    this.racer = undefined;
    one?.(reason);
    if (!racing) return;
    for (const reject of [...racing]) reject(reason);
    racing.clear();
  };

  /**
   * The LLMError for what an attempt threw (or reported): caller abort, our timeout (`afterResponse` once the
   * provider's success response arrived: the race rejects before the engine can mark it), or the engine's error.
   */
  errorFor(thrown: unknown): LLMError {
    if (this.callerSignal?.aborted) return abortError(this.callerSignal, this.context);
    if (this.timeoutError) return this.responded ? afterResponseError(this.timeoutError, undefined, this.context) : this.timeoutError;
    if (this.cancelled) return new LLMError({ code: 'aborted', message: 'Attempt cancelled by the router', ...this.context });
    return toLLMError(thrown, this.context);
  }

  dispose(): void {
    if (this.firstTimer !== undefined) clearTimeout(this.firstTimer);
    if (this.totalTimer !== undefined) clearTimeout(this.totalTimer);
    this.firstTimer = this.totalTimer = undefined;
    this.link.dispose();
  }

  private timeout(message: string): void {
    if (this.link.aborted) return;
    this.timeoutError = new LLMError({ code: 'timeout', message: `Timed out: ${message}`, isRetryable: true, ...this.context });
    this.link.abort(this.timeoutError);
  }
}
