import { describe, expect, it } from 'vitest';
import { CircuitBreakerSchema } from '../../config/schema.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

function make(partial: Record<string, unknown> = {}) {
  let t = 10_000;
  const transitions: string[] = [];
  const breaker = new CircuitBreaker({
    config: CircuitBreakerSchema.parse({ failureThreshold: 2, cooldownMs: 1_000, ...partial }),
    now: () => t,
    onTransition: (from: CircuitState, to: CircuitState) => transitions.push(`${from}->${to}`),
  });
  return { breaker, transitions, advance: (ms: number) => (t += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures; a success in between resets the count', () => {
    const { breaker, transitions } = make();
    breaker.failure();
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.isAvailable()).toBe(false);
    expect(breaker.tryAcquire()).toBe(false);
    expect(transitions).toEqual(['closed->open']);
  });

  it('half-opens after the cooldown, admits halfOpenMaxProbes probes, closes on success', () => {
    const { breaker, transitions, advance } = make({ halfOpenMaxProbes: 1 });
    breaker.failure();
    breaker.failure();
    advance(999);
    expect(breaker.state).toBe('open');
    advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.isAvailable()).toBe(false); // the one probe slot is taken
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('reopensInMs: the rest of an open circuit\'s cooldown, 0 when not open', () => {
    const { breaker, advance } = make({ failureThreshold: 1 });
    expect(breaker.reopensInMs()).toBe(0);
    breaker.failure();
    expect(breaker.reopensInMs()).toBe(1_000);
    advance(400);
    expect(breaker.reopensInMs()).toBe(600);
    advance(600);
    expect(breaker.reopensInMs()).toBe(0);
    expect(breaker.acquire()).toMatchObject({ probe: true }); // half-open: a probe
    expect(breaker.reopensInMs()).toBe(0);
    expect(make({ enabled: false }).breaker.reopensInMs()).toBe(0);
  });

  it('a failed probe re-opens with a fresh cooldown', () => {
    const { breaker, transitions, advance } = make();
    breaker.failure();
    breaker.failure();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    advance(500);
    expect(breaker.state).toBe('open');
    advance(500);
    expect(breaker.state).toBe('half-open');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
  });

  it('successThreshold probes are needed to close', () => {
    const { breaker, advance } = make({ successThreshold: 2, halfOpenMaxProbes: 2 });
    breaker.failure();
    breaker.failure();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
  });

  it('release frees a probe slot without changing state', () => {
    const { breaker, advance } = make();
    breaker.failure();
    breaker.failure();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.isAvailable()).toBe(true);
  });

  it('force admits an open circuit (as a probe)', () => {
    const { breaker } = make();
    breaker.failure();
    breaker.failure();
    expect(breaker.tryAcquire(true)).toBe(true);
    expect(breaker.state).toBe('half-open');
    breaker.success();
    expect(breaker.state).toBe('closed');
  });

  it('disabled: always admits, never opens', () => {
    const { breaker } = make({ enabled: false });
    for (let i = 0; i < 10; i++) breaker.failure();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('with permits: a call admitted while closed that ends during half-open is no probe (frees no slot, closes nothing)', () => {
    const { breaker, advance, transitions } = make({ halfOpenMaxProbes: 1 });
    const early = breaker.acquire()!;
    expect(early.probe).toBe(false);
    breaker.failure(breaker.acquire());
    breaker.failure(breaker.acquire());
    advance(1_000);
    const probe = breaker.acquire()!;
    expect(probe.probe).toBe(true);
    breaker.success(early); // started before the circuit opened: says nothing about the probe
    expect(breaker.state).toBe('half-open');
    expect(breaker.acquire()).toBeUndefined(); // the one slot is still the probe's
    breaker.failure(early);
    expect(breaker.state).toBe('half-open'); // a stale failure does not re-open either
    breaker.success(probe);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('with permits: a probe of an earlier half-open period frees no slot of the current one', () => {
    const { breaker, advance } = make({ halfOpenMaxProbes: 2 });
    breaker.failure();
    breaker.failure();
    advance(1_000);
    const old = breaker.acquire()!;
    const failing = breaker.acquire()!;
    breaker.failure(failing); // re-opens
    advance(1_000);
    const a = breaker.acquire()!;
    const b = breaker.acquire()!;
    expect([a.probe, b.probe]).toEqual([true, true]);
    breaker.release(old); // late, from the period before: both slots stay taken
    expect(breaker.acquire()).toBeUndefined();
    breaker.release(a);
    expect(breaker.acquire()?.probe).toBe(true);
  });

  it('peek reads the state without moving it: an open circuit past its cooldown answers half-open but stays open, no event', () => {
    const { breaker, transitions, advance } = make({ halfOpenMaxProbes: 1 });
    expect(breaker.peek()).toBe('closed');
    breaker.failure();
    breaker.failure();
    expect(breaker.peek()).toBe('open');
    advance(1_000);
    expect(breaker.peek()).toBe('half-open');
    expect(breaker.peek()).toBe('half-open');
    expect(transitions).toEqual(['closed->open']);
    // No probe slot was taken: a call is still the probe.
    expect(breaker.acquire()?.probe).toBe(true);
    expect(transitions).toEqual(['closed->open', 'open->half-open']);
  });

  it('unadmittedFailure: counts toward the threshold when closed, re-opens half-open with a fresh cooldown, only counts when open', () => {
    const { breaker, transitions, advance } = make({ halfOpenMaxProbes: 1 });
    breaker.unadmittedFailure();
    breaker.failure();
    expect(transitions).toEqual(['closed->open']);
    advance(500);
    breaker.unadmittedFailure(); // open within its cooldown: the opening stands, same cooldown
    advance(500);
    expect(breaker.state).toBe('half-open');
    const probe = breaker.acquire()!;
    breaker.unadmittedFailure(); // the provider still fails: open again
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
    expect(breaker.peek()).toBe('open');
    breaker.success(probe); // the probe of the ended half-open period does not close it
    expect(breaker.state).toBe('open');
    advance(999);
    expect(breaker.peek()).toBe('open');
    advance(1);
    expect(breaker.peek()).toBe('half-open');
    // Past the cooldown, never seen half-open: re-opened with a fresh cooldown, no event (the router saw it open throughout).
    breaker.unadmittedFailure();
    expect(breaker.peek()).toBe('open');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
    advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('unadmittedFailure does nothing while disabled', () => {
    const { breaker, transitions } = make({ enabled: false, failureThreshold: 1 });
    breaker.unadmittedFailure();
    expect(breaker.peek()).toBe('closed');
    expect(transitions).toEqual([]);
  });
});
