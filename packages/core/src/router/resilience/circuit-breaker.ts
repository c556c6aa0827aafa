import type { CircuitOptions, CircuitPermit, DeploymentCircuit } from './circuit-state-store.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export type CircuitBreakerOptions = CircuitOptions;

/** A probe permit remembers the half-open period it belongs to: a late one from an earlier period frees nothing. */
class ProbePermit implements CircuitPermit {
  readonly probe = true;
  constructor(readonly epoch: number) {}
}

const PASS: CircuitPermit = Object.freeze({ probe: false });

/**
 * One deployment's circuit breaker:
 * closed -> open after `failureThreshold` consecutive failures -> after `cooldownMs` half-open, admitting
 * `halfOpenMaxProbes` probes at once -> closed after `successThreshold` successful probes, or open again
 * (a fresh cooldown) on a failed one.
 */
export class CircuitBreaker implements DeploymentCircuit {
  private current: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private probeSuccesses = 0;
  private probesInFlight = 0;
  /** Counts half-open periods. */
  private epoch = 0;
  /** When the circuit last opened (0 when it never did). */
  openedAt = 0;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get enabled(): boolean {
    return this.options.config.enabled;
  }

  /** The state now (an open circuit past its cooldown reads, and becomes, half-open). */
  get state(): CircuitState {
    if (this.current === 'open' && this.options.now() - this.openedAt >= this.options.config.cooldownMs) {
      this.transition('half-open');
    }
    return this.current;
  }

  /**
   * The state now, read-only: an open circuit past its cooldown answers `half-open` without becoming it
   * (no transition, no `onTransition`). What a token count goes by.
   */
  peek(): CircuitState {
    if (this.current === 'open' && this.options.now() - this.openedAt >= this.options.config.cooldownMs) return 'half-open';
    return this.current;
  }

  /** `peek()`: what this router knows, read-only. */
  peekLocal(): CircuitState {
    return this.peek();
  }

  /** Whether a call would be admitted now (no side effect beyond the cooldown check). */
  isAvailable(): boolean {
    if (!this.options.config.enabled) return true;
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open') return false;
    return this.probesInFlight < this.options.config.halfOpenMaxProbes;
  }

  /** The rest of an open circuit's cooldown (ms); 0 when it is not open (see `DeploymentCircuit.reopensInMs`). */
  reopensInMs(): number {
    if (!this.options.config.enabled || this.current !== 'open') return 0;
    return Math.max(0, this.openedAt + this.options.config.cooldownMs - this.options.now());
  }

  /**
   * Admits a call, taking a probe slot while half-open. `force` admits even an open circuit, or a half-open one
   * past `halfOpenMaxProbes` (used when every candidate is open: the least recently opened one is still tried, so
   * with no alternative the breaker does not shed load; the Redis script does the same).
   * Every admitted call must end with `success()`, `failure()` or `release()`.
   */
  tryAcquire(force = false): boolean {
    return this.acquire(force) !== undefined;
  }

  /** Like `tryAcquire`, returning the permit to pass to `success` / `failure` / `release` (undefined: refused). */
  acquire(force = false): CircuitPermit | undefined {
    if (!this.options.config.enabled) return PASS;
    const s = this.state;
    if (s === 'closed') return PASS;
    if (s === 'half-open' && this.probesInFlight < this.options.config.halfOpenMaxProbes) {
      this.probesInFlight++;
      return new ProbePermit(this.epoch);
    }
    if (force) {
      if (s === 'open') this.transition('half-open');
      this.probesInFlight++;
      return new ProbePermit(this.epoch);
    }
    return undefined;
  }

  /**
   * Whether a call held a probe slot of the current half-open period. Without a permit (callers of the
   * older API): any call ending while half-open is taken as a probe.
   */
  private heldProbe(permit: CircuitPermit | undefined): boolean {
    if (this.current !== 'half-open') return false;
    return permit === undefined || (permit instanceof ProbePermit && permit.epoch === this.epoch);
  }

  success(permit?: CircuitPermit): void {
    this.consecutiveFailures = 0;
    if (!this.heldProbe(permit)) return;
    this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    this.probeSuccesses++;
    if (this.probeSuccesses >= this.options.config.successThreshold) this.transition('closed');
  }

  failure(permit?: CircuitPermit): void {
    if (!this.options.config.enabled) return;
    this.consecutiveFailures++;
    if (this.heldProbe(permit)) {
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      this.open();
    } else if (this.current === 'closed' && this.consecutiveFailures >= this.options.config.failureThreshold) {
      this.open();
    }
  }

  /**
   * A failure of work the breaker did not admit (a token count): closed, it counts toward
   * `failureThreshold`; half-open (or open past its cooldown), it re-opens with a fresh cooldown, and the
   * probes in flight stop counting (their permits belong to the half-open period that ended); open within
   * its cooldown, it only counts. Re-opening an open circuit whose cooldown passed unseen emits no event
   * (this router never saw it half-open).
   */
  unadmittedFailure(): void {
    if (!this.options.config.enabled) return;
    this.consecutiveFailures++;
    const s = this.peek();
    if (s === 'half-open' || (s === 'closed' && this.consecutiveFailures >= this.options.config.failureThreshold)) this.open();
  }

  /** An admitted call ended without saying anything about health (aborted, invalid request). */
  release(permit?: CircuitPermit): void {
    if (this.heldProbe(permit)) this.probesInFlight = Math.max(0, this.probesInFlight - 1);
  }

  /** Back to closed, counters cleared (e.g. when a deployment is reloaded). */
  reset(): void {
    this.consecutiveFailures = 0;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  private open(): void {
    this.openedAt = this.options.now();
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this.current;
    if (from === to && to !== 'open') return;
    this.current = to;
    if (to === 'half-open' || to === 'closed') {
      this.probeSuccesses = 0;
      if (to === 'half-open') this.epoch++;
      if (to === 'closed') {
        this.probesInFlight = 0;
        this.consecutiveFailures = 0;
      }
    }
    if (to === 'open') this.probesInFlight = 0;
    if (from !== to) this.options.onTransition?.(from, to);
  }
}
