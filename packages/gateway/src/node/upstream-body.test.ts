import { RELEASE_LINGER_MS, type BodySink } from '@llmrr/core';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HIGH_WATER_BYTES, UpstreamBody } from './upstream-body.js';

/** The part of undici's dispatch controller a body uses, recording what was done to it. */
function controller() {
  const calls: string[] = [];
  const c = {
    paused: false,
    aborted: undefined as unknown,
    pause() {
      c.paused = true;
      calls.push('pause');
    },
    resume() {
      c.paused = false;
      calls.push('resume');
    },
    abort(reason: unknown) {
      c.aborted = reason;
      calls.push('abort');
    },
  };
  return { c, calls, ctrl: c as unknown as Dispatcher.DispatchController };
}

function recorder() {
  const got: string[] = [];
  const sink: BodySink = {
    data: (chunk) => got.push(`data:${chunk.byteLength}`),
    end: () => got.push('end'),
    error: (e) => got.push(`error:${e instanceof Error ? e.message : String(e)}`),
  };
  return { got, sink };
}

const bytes = (n: number) => Buffer.alloc(n, 97);

afterEach(() => {
  vi.useRealTimers();
});

describe('UpstreamBody', () => {
  it('keeps what comes before the tap, pausing the socket at the high-water mark, and resumes it on the tap', () => {
    const { c, calls, ctrl } = controller();
    const body = new UpstreamBody(ctrl, () => calls.push('done'));
    body.data(bytes(HIGH_WATER_BYTES - 1));
    expect(c.paused).toBe(false);
    body.data(bytes(1));
    expect(c.paused).toBe(true);
    const { got, sink } = recorder();
    body.tap(sink);
    expect(got).toEqual([`data:${HIGH_WATER_BYTES - 1}`, 'data:1']);
    expect(calls).toEqual(['pause', 'resume']);
    body.data(bytes(3));
    body.end();
    expect(got).toEqual([`data:${HIGH_WATER_BYTES - 1}`, 'data:1', 'data:3', 'end']);
    expect(() => body.tap(recorder().sink)).toThrow(TypeError);
  });

  it('an end or a failure before the tap is delivered after the kept bytes', () => {
    const ended = new UpstreamBody(controller().ctrl, () => {});
    ended.data(bytes(2));
    ended.end();
    const a = recorder();
    ended.tap(a.sink);
    expect(a.got).toEqual(['data:2', 'end']);

    const failed = new UpstreamBody(controller().ctrl, () => {});
    failed.fail(new Error('reset'));
    const b = recorder();
    failed.tap(b.sink);
    expect(b.got).toEqual(['error:reset']);
  });

  it('a release while the reader holds the socket paused resumes it, drops the rest, and the end keeps the connection', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'queueMicrotask'] });
    const { c, calls, ctrl } = controller();
    const body = new UpstreamBody(ctrl, () => calls.push('done'));
    const { got, sink } = recorder();
    body.tap(sink);
    body.pause();
    body.release();
    expect(c.paused).toBe(false);
    body.data(bytes(5));
    vi.runAllTicks();
    body.end();
    vi.advanceTimersByTime(RELEASE_LINGER_MS * 2);
    expect(got).toEqual([]);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it(`a released body that does not end is aborted ${RELEASE_LINGER_MS} ms later`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { c, calls, ctrl } = controller();
    const body = new UpstreamBody(ctrl, () => calls.push('done'));
    body.tap(recorder().sink);
    body.release();
    await Promise.resolve();
    vi.advanceTimersByTime(RELEASE_LINGER_MS - 1);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['done', 'abort']);
    expect(c.aborted).toMatchObject({ name: 'AbortError' });
  });

  it('a cancel aborts at once with its reason; later bytes and the end are ignored', () => {
    const { c, calls, ctrl } = controller();
    const body = new UpstreamBody(ctrl, () => calls.push('done'));
    const { got, sink } = recorder();
    body.tap(sink);
    body.data(bytes(1));
    const reason = new Error('client gone');
    body.cancel(reason);
    expect(calls).toEqual(['done', 'abort']);
    expect(c.aborted).toBe(reason);
    body.data(bytes(1));
    body.end();
    expect(got).toEqual(['data:1']);
  });
});
