import type { CallWarning, RouterResult, RouterStream, RouterStreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { WARNINGS_LOOKED_AT_MAX, wellFormedWarnings } from '../calls/call-warnings.js';
import { openStream } from './open-stream.js';

function routerStream(parts: RouterStreamPart[]): RouterStream {
  return {
    requestId: 'req_1',
    result: new Promise<RouterResult>(() => {}),
    async *[Symbol.asyncIterator]() {
      yield* parts;
    },
  };
}

const ROUTE: RouterStreamPart = { type: 'route', requestId: 'req_1', deployment: 'd', model: 'm', provider: 'mock', cached: false };

describe('openStream: the warnings of the head', () => {
  it('one warnings part: its list as it is', async () => {
    const list: CallWarning[] = [{ code: 'a', message: 'm' }];
    const opened = await openStream(routerStream([ROUTE, { type: 'warnings', warnings: list }, { type: 'text-delta', delta: 'x' }]), 0, () => 0);
    expect(opened.warnings).toBe(list);
  });

  it('several warnings parts (engines send one, a wrapper may add more): joined in order; no part\u2019s list is changed', async () => {
    const lists: CallWarning[][] = Array.from({ length: 50 }, (_, i) => [{ code: `c${i}`, message: 'm' }, { code: `d${i}`, message: 'm' }]);
    const parts: RouterStreamPart[] = [ROUTE, ...lists.map((warnings): RouterStreamPart => ({ type: 'warnings', warnings })), { type: 'text-delta', delta: 'x' }];
    const opened = await openStream(routerStream(parts), 0, () => 0);
    expect(opened.warnings).toEqual(lists.flat());
    expect(lists.every((l) => l.length === 2)).toBe(true);
    expect(opened.head).toHaveLength(51);
  });

  it('several parts, one a sparse list of 2**32 - 1 indexes (plain JS): joined bounded, the rest counted in one warnings_omitted', async () => {
    const sparse: CallWarning[] = [];
    sparse.length = 2 ** 32 - 1;
    sparse[1] = { code: 'second', message: 'm' };
    const parts: RouterStreamPart[] = [
      ROUTE,
      { type: 'warnings', warnings: [{ code: 'first', message: 'm' }] },
      { type: 'warnings', warnings: sparse },
      { type: 'warnings', warnings: [{ code: 'late', message: 'm' }] },
      { type: 'text-delta', delta: 'x' },
    ];
    const opened = await openStream(routerStream(parts), 0, () => 0);
    const list = opened.warnings!;
    expect(list).toHaveLength(WARNINGS_LOOKED_AT_MAX);
    expect(list[0]).toEqual({ code: 'first', message: 'm' });
    expect(list[2]).toEqual({ code: 'second', message: 'm' });
    const total = 1 + (2 ** 32 - 1) + 1;
    expect(list[WARNINGS_LOOKED_AT_MAX - 1]).toEqual({
      code: 'warnings_omitted',
      message: `The engine sent ${total} warnings; the first ${WARNINGS_LOOKED_AT_MAX - 1} were looked at and the other ${total - (WARNINGS_LOOKED_AT_MAX - 1)} left out.`,
    });
    expect(sparse).toHaveLength(2 ** 32 - 1);
    // As shown: the two warnings, the holes looked at as entries that are not warnings, the count of the others.
    expect(wellFormedWarnings(list).map((w) => w.code)).toEqual(['first', 'second', 'warnings_omitted', 'invalid_warning']);
  });

  it('several parts within the bound: every entry, in order, no warnings_omitted', async () => {
    const many = (c: string, n: number): CallWarning[] => Array.from({ length: n }, (_, i) => ({ code: c, message: String(i) }));
    const a = many('a', 511);
    const b = many('b', WARNINGS_LOOKED_AT_MAX - 1 - 511);
    const parts: RouterStreamPart[] = [ROUTE, { type: 'warnings', warnings: a }, { type: 'warnings', warnings: b }, { type: 'text-delta', delta: 'x' }];
    const opened = await openStream(routerStream(parts), 0, () => 0);
    expect(opened.warnings).toEqual([...a, ...b]);
    expect(wellFormedWarnings(opened.warnings)).toBe(opened.warnings);
  });

  it('an empty list or one that is not an array (plain JS) adds none', async () => {
    const parts = [ROUTE, { type: 'warnings', warnings: [] }, { type: 'warnings', warnings: null }, { type: 'text-delta', delta: 'x' }] as unknown as RouterStreamPart[];
    const opened = await openStream(routerStream(parts), 0, () => 0);
    expect(opened.warnings).toBeUndefined();
  });
});
