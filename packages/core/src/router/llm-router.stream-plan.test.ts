/**
 * A custom strategy's `rank` may return a promise of another realm (or any thenable): `planRoute` turns it
 * into a native promise, so `stream()` and `generate()` (which test their plan with `instanceof Promise` to
 * skip a turn for synchronous plans) wait for it.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { collect } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents } from './types.js';

function router(): { router: LLMRouter; ends: Array<RouterEvents['request:end']> } {
  const r = new LLMRouter(
    { models: [{ name: 'a', engine: 'mock' }, { name: 'b', engine: 'mock' }], routing: { strategy: 'mine', retries: { max: 0 } } },
    {
      strategies: {
        mine: {
          name: 'mine',
          // An async ranking whose promise comes from another realm (a strategy evaluated in a `vm` context):
          // a real Promise, but not an `instanceof` this realm's.
          rank(ctx) {
            const b = ctx.candidates.find((c) => c.name === 'b')!;
            return runInNewContext('Promise.resolve(list)', { list: [{ deployment: b }] }) as Promise<Array<{ deployment: typeof b }>>;
          },
        },
      },
    },
  );
  const ends: Array<RouterEvents['request:end']> = [];
  r.on('request:end', (e) => ends.push(e));
  return { router: r, ends };
}

describe('stream planning with an async strategy whose promise is not an instanceof Promise', () => {
  it('route() answers with that strategy (the route itself is fine)', async () => {
    const { router: r } = router();
    expect((await r.route('x')).order).toEqual(['b']);
    await r.close();
  });

  it('stream() waits for the ranking and answers from the ranked deployment, as before the change', async () => {
    const { router: r, ends } = router();
    const s = r.stream('x', { cache: false });
    const parts = await collect(s);
    expect(parts[0]).toMatchObject({ type: 'route', deployment: 'b' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish' });
    expect((await s.result).deployment).toBe('b');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error).toBeUndefined();
    await r.close();
  });

  it('generate() waits for the ranking too', async () => {
    const { router: r, ends } = router();
    const result = await r.generate('x', { cache: false });
    expect(result.deployment).toBe('b');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.error).toBeUndefined();
    await r.close();
  });
});
