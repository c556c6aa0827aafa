import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AttemptScope, LinkedController } from './attempt-scope.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const refs: Array<WeakRef<object>> = [];
/** A part only a WeakRef (and whoever holds the promise) can reach. */
function bigPart(): Promise<object> {
  const part = { big: new Array(1000).fill('x') };
  refs.push(new WeakRef(part));
  return Promise.resolve(part);
}

describe('AttemptScope.race', () => {
  it('keeps nothing of a settled race while the scope lives on (a long stream races every part)', async () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    await scope.race(bigPart());
    for (let i = 0; i < 10; i++) await scope.race(Promise.resolve(i));
    // (No deref() in this loop: it would keep the target alive for the rest of the job.)
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(refs[0]!.deref()).toBeUndefined();
    scope.dispose();
  });

  it('rejects with the abort reason, at once when already aborted, and the raced promise stays handled', async () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    const pending = scope.race(new Promise<never>(() => {}));
    scope.cancel();
    await expect(pending).rejects.toBeTypeOf('symbol');
    await expect(scope.race(Promise.reject(new Error('late')))).rejects.toBeTypeOf('symbol');
    await expect(scope.race(Promise.resolve(1))).rejects.toBeTypeOf('symbol');
    scope.dispose();
  });

  it('passes the value or the error through when not aborted', async () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    await expect(scope.race(Promise.resolve(7))).resolves.toBe(7);
    await expect(scope.race(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    scope.dispose();
  });

  it('rejects every race in progress on abort, also after dispose, without an abort listener of its own', async () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    const signal = scope.signal;
    let added = 0;
    const add = signal.addEventListener.bind(signal);
    signal.addEventListener = ((...a: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...a);
    }) as AbortSignal['addEventListener'];
    for (let i = 0; i < 20; i++) await scope.race(Promise.resolve(i));
    const a = scope.race(new Promise<never>(() => {}));
    const b = scope.race(new Promise<never>(() => {}));
    scope.dispose();
    scope.cancel();
    await expect(a).rejects.toBeTypeOf('symbol');
    await expect(b).rejects.toBeTypeOf('symbol');
    expect(added).toBe(0);
  });

  it('races that overlap in any order: each settles with its own value, the ones still pending reject on abort', async () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    let release!: (v: number) => void;
    const first = scope.race(new Promise<number>((r) => (release = r)));
    const second = scope.race(new Promise<never>(() => {}));
    release(1);
    await expect(first).resolves.toBe(1);
    // The first one's place is free again; the second still waits among the others.
    const third = scope.race(new Promise<never>(() => {}));
    await expect(scope.race(Promise.resolve(4))).resolves.toBe(4);
    scope.cancel();
    await expect(second).rejects.toBeTypeOf('symbol');
    await expect(third).rejects.toBeTypeOf('symbol');
    scope.dispose();
  });

  it('rejects the races in progress when the parent signal aborts, and when a timeout fires', async () => {
    const parent = new AbortController();
    const scope = new AttemptScope(parent.signal, {}, { deployment: 'd' }, parent.signal);
    const pending = scope.race(new Promise<never>(() => {}));
    parent.abort(new Error('client gone'));
    await expect(pending).rejects.toThrow('client gone');
    expect(scope.signal.aborted).toBe(true);
    scope.dispose();

    const timed = new AttemptScope(undefined, { totalMs: 5 }, { deployment: 'd' }, undefined);
    await expect(timed.race(new Promise<never>(() => {}))).rejects.toMatchObject({ code: 'timeout' });
    expect(timed.signal.aborted).toBe(true);
    timed.dispose();
  });

  it('leaves no listener on the parent signal once disposed, and a parent aborted before the scope rejects at once', async () => {
    const parent = new AbortController();
    const scope = new AttemptScope(parent.signal, {}, { deployment: 'd' }, parent.signal);
    await scope.race(Promise.resolve(1));
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    scope.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    parent.abort(new Error('gone'));
    const late = new AttemptScope(parent.signal, {}, { deployment: 'd' }, parent.signal);
    await expect(late.race(Promise.resolve(1))).rejects.toThrow('gone');
    late.dispose();
  });

  it("under a call's light link (an AttemptSignal parent): follows its abort, and once disposed neither follows it nor leaves a listener on the caller's signal", async () => {
    const caller = new AbortController();
    const call = new LinkedController(caller.signal, true);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    const scope = new AttemptScope(call.signal, {}, { deployment: 'd' }, caller.signal, true);
    const pending = scope.race(new Promise<never>(() => {}));
    caller.abort(new Error('client gone'));
    await expect(pending).rejects.toThrow('client gone');
    expect(call.aborted && scope.aborted && scope.signal.reason === call.signal.reason).toBe(true);
    scope.dispose();
    call.dispose();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);

    // Disposed before the link aborts: the scope is left alone.
    const other = new LinkedController(undefined, true);
    const left = new AttemptScope(other.signal, {}, { deployment: 'd' }, undefined, true);
    left.dispose();
    other.abort(new Error('closed'));
    expect(other.signal.aborted).toBe(true);
    expect(left.aborted || left.signal.aborted).toBe(false);
  });
});

describe('AttemptScope.watchAbort and aborted', () => {
  it('calls the hook once, right after any abort and before the races reject, with aborted true; not after it is removed', async () => {
    const order: string[] = [];
    const parent = new AbortController();
    const scope = new AttemptScope(parent.signal, {}, { deployment: 'd' }, undefined);
    scope.signal.addEventListener('abort', () => order.push(`listener aborted=${scope.aborted}`));
    scope.watchAbort(() => order.push(`hook aborted=${scope.aborted}`));
    const raced = scope.race(new Promise(() => {})).catch(() => order.push('race rejected'));
    expect(scope.aborted).toBe(false);
    parent.abort(new Error('gone'));
    parent.abort();
    scope.cancel();
    await raced;
    expect(order).toEqual(['listener aborted=true', 'hook aborted=true', 'race rejected']);
    expect(scope.aborted).toBe(true);
    expect(scope.cancelled).toBe(false);

    let calls = 0;
    const other = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    other.watchAbort(() => calls++);
    other.watchAbort(undefined);
    other.cancel();
    expect(calls).toBe(0);
    expect(other.aborted).toBe(true);
    expect(other.cancelled).toBe(true);
    // No listener of the scope's own on its signal.
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0);
  });

  it('calls the hook on a timeout; a scope born aborted is aborted and never calls it', async () => {
    const scope = new AttemptScope(undefined, { totalMs: 5 }, { deployment: 'd' }, undefined);
    const fired = new Promise<boolean>((resolve) => scope.watchAbort(() => resolve(scope.aborted)));
    expect(await fired).toBe(true);
    expect(scope.timeoutError?.code).toBe('timeout');
    scope.dispose();

    let calls = 0;
    const born = new AttemptScope(AbortSignal.abort(), {}, { deployment: 'd' }, undefined);
    born.watchAbort(() => calls++);
    born.cancel();
    expect(born.aborted).toBe(true);
    expect(born.signal.aborted).toBe(true);
    expect(calls).toBe(0);
  });
});

describe('AttemptScope.providerResponse', () => {
  it("a timeout after the engine reported the provider's response is afterResponse (not retryable); before it, a plain timeout", async () => {
    const answered = new AttemptScope(undefined, { totalMs: 5 }, { deployment: 'd' }, undefined);
    answered.providerResponse()!();
    const waiting = new AttemptScope(undefined, { totalMs: 5 }, { deployment: 'd' }, undefined);
    const never = new Promise<never>(() => {});
    const [a, w] = await Promise.all([answered.race(never).catch((e: unknown) => answered.errorFor(e)), waiting.race(never).catch((e: unknown) => waiting.errorFor(e))]);
    answered.dispose();
    waiting.dispose();
    expect({ code: a.code, afterResponse: a.afterResponse, isRetryable: a.isRetryable }).toEqual({ code: 'timeout', afterResponse: true, isRetryable: false });
    expect(a.message).toContain('the answer is lost and was not requested again');
    expect({ code: w.code, afterResponse: w.afterResponse, isRetryable: w.isRetryable }).toEqual({ code: 'timeout', afterResponse: false, isRetryable: true });
  });

  it('gives no hook to a scope without a timer (the engine marks its own failures)', () => {
    const scope = new AttemptScope(undefined, {}, { deployment: 'd' }, undefined);
    expect(scope.providerResponse()).toBeUndefined();
    scope.dispose();
  });
});
