/**
 * `.result` drains through the module-level `drainUnread`, which finds the stream by `StreamResult.owner` and lets go
 * of it; the drain lives on the stream's state, not on `.result`: a caller that keeps only a stream's settled `.result`
 * keeps neither the stream state nor the parts the router's drain read.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/index.js';
import { LLMRouter } from './llm-router.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('a settled stream result kept alone', () => {
  it('does not keep the stream state and the drained parts alive', async () => {
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { engines: { m: new MockEngine({ modelId: 'm' }) } });
    try {
      let stream: ReturnType<LLMRouter['stream']> | undefined = router.stream('hi there, tell me a story');
      const result = stream.result;
      const held = result as unknown as { owner?: { drain?: { parts: object[] } } };
      const state = new WeakRef(held.owner!);
      await result;
      expect(held.owner).toBeUndefined();
      // The parts the router read for `.result` (no iterator asked for them).
      const part = new WeakRef(state.deref()!.drain!.parts[0]!);
      stream = undefined;
      for (let i = 0; i < 5 && (part.deref() !== undefined || state.deref() !== undefined); i++) {
        await new Promise((r) => setImmediate(r));
        gc();
      }
      expect({ partCollected: part.deref() === undefined, stateCollected: state.deref() === undefined, result: (await result).text.length > 0 }).toEqual({
        partCollected: true,
        stateCollected: true,
        result: true,
      });
    } finally {
      await router.close();
    }
  });
});
