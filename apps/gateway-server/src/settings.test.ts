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

describe('readSettings: LLMRR_REDIS_TIMEOUT_MS and LLMRR_LEASE_RENEW_INTERVAL_MS', () => {
  it('are absent by default (the stores and the gateway use their defaults) and take integers in range', () => {
    const d = readSettings({}, '/tmp');
    expect(d.redisTimeoutMs).toBeUndefined();
    expect(d.leaseRenewIntervalMs).toBeUndefined();
    const s = readSettings({ LLMRR_REDIS_TIMEOUT_MS: ' 500 ', LLMRR_LEASE_RENEW_INTERVAL_MS: '60000' }, '/tmp');
    expect(s.redisTimeoutMs).toBe(500);
    expect(s.leaseRenewIntervalMs).toBe(60_000);
  });

  it('refuse anything else, naming the variable', () => {
    for (const bad of ['0', '49', '60001', '1.5', 'abc', '-1']) {
      expect(() => readSettings({ LLMRR_REDIS_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REDIS_TIMEOUT_MS' }));
    }
    // Leases expire 10 minutes after their last renewal: an interval of 5 minutes at most.
    for (const bad of ['999', '300001', '600000', 'x']) {
      expect(() => readSettings({ LLMRR_LEASE_RENEW_INTERVAL_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_LEASE_RENEW_INTERVAL_MS' }));
    }
  });
});
