import type { CallWarning, RouterResult, RouterStream, RouterStreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
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

  it('an empty list or one that is not an array (plain JS) adds none', async () => {
    const parts = [ROUTE, { type: 'warnings', warnings: [] }, { type: 'warnings', warnings: null }, { type: 'text-delta', delta: 'x' }] as unknown as RouterStreamPart[];
    const opened = await openStream(routerStream(parts), 0, () => 0);
    expect(opened.warnings).toBeUndefined();
  });
});
