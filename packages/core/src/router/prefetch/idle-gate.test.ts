/**
 * The prefetcher's IdleGate keeps the attempts of the last minute per deployment (for rpm/tpm limits): it drops
 * older ones as calls are recorded, also for deployments without rpm/tpm limits, whose records it never reads.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentInfo, RouterEvents } from '../types.js';
import { IdleGate } from './idle-gate.js';

function deployment(name: string, limits?: { rpm?: number }): DeploymentInfo {
  return { name, config: { name, ...(limits ? { limits } : {}) }, stats: { inFlight: 0 } } as unknown as DeploymentInfo;
}

function end(name: string): RouterEvents['request:end'] {
  return {
    requestId: 'r',
    stream: false,
    kind: 'generate',
    metadata: {},
    result: { deployment: name, usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, attempts: [{ deployment: name, attempt: 1, ok: true }] },
  } as unknown as RouterEvents['request:end'];
}

describe('IdleGate', () => {
  it('keeps about a minute of records for a deployment without rpm/tpm limits, however many calls it served', () => {
    let t = 0;
    const gate = new IdleGate({ fraction: 0.5, maxLiveInFlight: 4, deployments: () => [deployment('chat')], now: () => t });
    // 100,000 calls, one per 86 ms (2.4 hours); the gate is asked now and then (as `poke` does).
    for (let i = 0; i < 100_000; i++) {
      t += 86;
      gate.record(end('chat'));
      if (i % 100 === 0) expect(gate.busy(undefined)).toBeUndefined();
    }
    // A minute holds 698 calls at that pace; the gate keeps at most twice that.
    expect(gate.retained).toBeGreaterThanOrEqual(698);
    expect(gate.retained).toBeLessThanOrEqual(2 * 698 + 1);
  });

  it('still counts the last minute exactly for an rpm-limited deployment', () => {
    let t = 0;
    let rpm = 100;
    const gate = new IdleGate({ fraction: 0.5, maxLiveInFlight: 4, deployments: () => [deployment('chat', { rpm })], now: () => t });
    for (let i = 0; i < 1_000; i++) {
      t += 1_000;
      gate.record(end('chat'));
    }
    // One call a second: 60 in the last minute, above half of 100 rpm, below half of 200.
    expect(gate.busy(undefined)).toBe('chat: 60 requests in the last minute (rpm 100)');
    rpm = 200;
    expect(gate.busy(undefined)).toBeUndefined();
    expect(gate.retained).toBe(60);
  });
});
