import { describe, expect, it } from 'vitest';
import { AttemptSignalController, anySignal, raceAbort, withTimeout } from './abort.js';

describe('raceAbort', () => {
  it('passes the promise through without a signal, or when it settles first', async () => {
    await expect(raceAbort(Promise.resolve(1), undefined)).resolves.toBe(1);
    const controller = new AbortController();
    await expect(raceAbort(Promise.resolve(2), controller.signal)).resolves.toBe(2);
    await expect(raceAbort(Promise.reject(new Error('boom')), controller.signal)).rejects.toThrow('boom');
  });

  it('rejects at once with the reason of an already aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('early'));
    await expect(raceAbort(new Promise(() => {}), controller.signal)).rejects.toThrow('early');
  });

  it('rejects with the reason when the signal aborts before the promise settles', async () => {
    const controller = new AbortController();
    let settle: (v: number) => void = () => {};
    const pending = new Promise<number>((resolve) => (settle = resolve));
    const raced = raceAbort(pending, controller.signal);
    controller.abort(new Error('late'));
    await expect(raced).rejects.toThrow('late');
    settle(3);
    await expect(pending).resolves.toBe(3); // the promise goes on
  });
});

type Controller = { signal: AbortSignal; abort(reason?: unknown): void };

/** `run` on an `AbortController` and on an `AttemptSignalController`: the stand-in must do what the real one does. */
function both(run: (c: Controller) => unknown): { real: unknown; stand: unknown } {
  return { real: run(new AbortController()), stand: run(new AttemptSignalController()) };
}

describe('AttemptSignal, as an AbortSignal', () => {
  it('calls its listeners in the order they were added, also after one was removed', () => {
    const out = both((c) => {
      const calls: string[] = [];
      const a = () => calls.push('a');
      const b = () => calls.push('b');
      const d = () => calls.push('c');
      c.signal.addEventListener('abort', a);
      c.signal.addEventListener('abort', b);
      c.signal.removeEventListener('abort', a);
      c.signal.addEventListener('abort', d);
      c.abort('stop');
      return calls;
    });
    expect(out).toEqual({ real: ['b', 'c'], stand: ['b', 'c'] });
  });

  it('does not call a listener that an earlier listener removed during the abort', () => {
    const out = both((c) => {
      const calls: string[] = [];
      const second = () => calls.push('second');
      const third = () => calls.push('third');
      c.signal.addEventListener('abort', () => {
        calls.push('first');
        c.signal.removeEventListener('abort', second);
      });
      c.signal.addEventListener('abort', second);
      c.signal.addEventListener('abort', third);
      c.abort('stop');
      return calls;
    });
    expect(out).toEqual({ real: ['first', 'third'], stand: ['first', 'third'] });
  });

  it("honours addEventListener's `signal` option: the listener is removed when that signal aborts, not added when it is aborted", () => {
    const out = both((c) => {
      const calls: string[] = [];
      const done = new AbortController();
      c.signal.addEventListener('abort', () => calls.push('late'), { signal: done.signal });
      c.signal.addEventListener('abort', () => calls.push('kept'), { signal: new AbortController().signal });
      c.signal.addEventListener('abort', () => calls.push('never'), { signal: AbortSignal.abort() });
      // The call the listener was for is over: its cleanup removes the listener.
      done.abort();
      c.abort('stop');
      return calls;
    });
    expect(out).toEqual({ real: ['kept'], stand: ['kept'] });
  });
});

describe('anySignal and withTimeout with an AttemptSignal', () => {
  it('abort when the AttemptSignal does, with its reason (AbortSignal.any alone would not)', () => {
    const attempt = new AttemptSignalController();
    const other = new AbortController();
    const any = anySignal([attempt.signal, other.signal])!;
    const timed = withTimeout(attempt.signal, 600_000)!;
    expect([any.aborted, timed.aborted]).toEqual([false, false]);
    attempt.abort('stop');
    expect([any.aborted, any.reason, timed.aborted, timed.reason]).toEqual([true, 'stop', true, 'stop']);
    // Already aborted: the combined signal is born aborted.
    expect(anySignal([new AbortController().signal, attempt.signal])!.reason).toBe('stop');
  });
});
