import { describe, expect, it } from 'vitest';
import { readSettings } from './settings.js';

describe('readSettings: LLMRR_HEAP_GROWING_PERCENT', () => {
  it('defaults to 25, takes 0 (V8 default) and other integers', () => {
    expect(readSettings({}, '/tmp').heapGrowingPercent).toBe(25);
    expect(readSettings({ LLMRR_HEAP_GROWING_PERCENT: '0' }, '/tmp').heapGrowingPercent).toBe(0);
    expect(readSettings({ LLMRR_HEAP_GROWING_PERCENT: ' 50 ' }, '/tmp').heapGrowingPercent).toBe(50);
  });

  it('refuses a value that is not an integer 0-1000, naming the variable', () => {
    for (const bad of ['x', '-1', '2.5', '1001']) {
      expect(() => readSettings({ LLMRR_HEAP_GROWING_PERCENT: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_HEAP_GROWING_PERCENT' }));
    }
  });
});

describe('readSettings: LLMRR_REQUEST_TIMEOUT_MS', () => {
  it('defaults to 60 s and takes integers of 1 s to 1 h', () => {
    expect(readSettings({}, '/tmp').requestTimeoutMs).toBe(60_000);
    expect(readSettings({ LLMRR_REQUEST_TIMEOUT_MS: ' 15000 ' }, '/tmp').requestTimeoutMs).toBe(15_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['x', '500', '2.5', '3600001', '-1']) {
      expect(() => readSettings({ LLMRR_REQUEST_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REQUEST_TIMEOUT_MS' }));
    }
  });
});
