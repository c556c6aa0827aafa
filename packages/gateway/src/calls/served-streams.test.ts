import { LLMError } from '@llmrr/core';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { FrameStream } from '../http/reply.js';
import { ServedStreams, type ServedCall } from './served-streams.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A body that records the error it was interrupted with (what `ServedCall.interrupt` hands a stream being sent). */
function recordingBody(): FrameStream & { cutWith?: LLMError } {
  const body = {
    cutWith: undefined as LLMError | undefined,
    interrupt(e: LLMError) {
      body.cutWith = e;
    },
  };
  return body as unknown as FrameStream & { cutWith?: LLMError };
}

/**
 * Bytes the scavenges promoted to the old space per call while `n` streamed calls (each with a body of about 600 bytes)
 * started and settled through `streams`, 64 at a time, `streams` itself in the old generation (as a server's is).
 */
function promotedPerCall(streams: ServedStreams, n: number): number {
  const live: ServedCall[] = [];
  for (let i = 0; i < 64; i++) live.push(streams.start(undefined));
  gc();
  gc();
  const profiler = new GCProfiler();
  profiler.start();
  for (let j = 0; j < n; j++) {
    const call = streams.start(undefined);
    call.body = { payload: new Array<number>(64).fill(j) } as unknown as FrameStream;
    const i = j % 64;
    live[i]!.done();
    live[i] = call;
  }
  const { statistics } = profiler.stop();
  const old = (h: { heapSpaceStatistics: Array<{ spaceName: string; spaceUsedSize: number }> }) => h.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')!.spaceUsedSize;
  let promoted = 0;
  for (const s of statistics) if (s.gcType === 'Scavenge') promoted += old(s.afterGC) - old(s.beforeGC);
  for (const call of live) call.done();
  return promoted / n;
}

describe('ServedStreams', () => {
  it('cut ends the calls not settled yet, counts them, and cuts every call that starts after it', () => {
    const streams = new ServedStreams();
    const calls = Array.from({ length: 5 }, () => streams.start(undefined));
    const bodies = calls.map((c) => (c.body = recordingBody()));
    calls[1]!.done();
    calls[3]!.done();
    // A settled call's slot is reused by the next call.
    const again = streams.start(undefined);
    const againBody = (again.body = recordingBody());
    const error = new LLMError({ code: 'shutting_down', message: 'The gateway is shutting down' });
    expect(streams.cut(error)).toBe(4);
    expect(bodies.map((b) => b.cutWith)).toEqual([error, undefined, error, undefined, error]);
    expect(againBody.cutWith).toBe(error);
    const late = streams.start(undefined);
    expect(late.error).toBe(error);
    expect(() => late.check(undefined)).toThrow(error);
    late.done();
  });

  it('cut does not visit a call that settles while the others are cut', () => {
    const streams = new ServedStreams();
    const calls = Array.from({ length: 3 }, () => streams.start(undefined));
    const last = (calls[2]!.body = recordingBody());
    calls[0]!.body = {
      interrupt: () => calls[2]!.done(),
    } as unknown as FrameStream;
    expect(streams.cut(new LLMError({ code: 'shutting_down', message: 'cut' }))).toBe(2);
    expect(last.cutWith).toBeUndefined();
  });

  it('holds no call once it settled', async () => {
    const streams = new ServedStreams();
    const kept = streams.start(undefined);
    const ref = (() => {
      const call = streams.start(undefined);
      call.done();
      call.done();
      return new WeakRef(call);
    })();
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    kept.done();
  });

  // A `Set` the calls went in and out of kept its replaced tables' entries, so a settled call and its body stayed
  // reachable past young-generation GCs once the server's streams were in the old generation (150-560 bytes
  // promoted per call here): slots keep nothing of a settled call.
  it('a settled call is not promoted by the scavenges, the server running long enough to be old', () => {
    expect(promotedPerCall(new ServedStreams(), 100_000)).toBeLessThan(20);
  });
});
