import type { DeploymentInfo } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { estimateInputTokens, estimateMaxCostUsd, utf8ByteLength } from './estimate.js';

const encoder = new TextEncoder();

describe('utf8ByteLength', () => {
  it('counts what TextEncoder writes: ASCII, 2-, 3- and 4-byte characters, lone and reversed surrogates', () => {
    const samples = ['', 'hello', 'é', 'ß€', '漢字', '😀', 'a😀b', '\ud83d', '\ude00', 'x\ud83d', '\ude00\ud83d', '\ud83d\ud83d\ude00', '\u007f\u0080\u07ff\u0800\uffff'];
    for (const s of samples) expect({ s, n: utf8ByteLength(s) }).toEqual({ s, n: encoder.encode(s).byteLength });
  });

  it('agrees with TextEncoder on 2,000 random strings over the whole UTF-16 range', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const ranges = [0x80, 0x800, 0xd800, 0xdc00, 0xe000, 0x10000];
    for (let i = 0; i < 2000; i++) {
      const units = Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * ranges[Math.floor(next() * ranges.length)]!));
      const s = String.fromCharCode(...units);
      expect(utf8ByteLength(s)).toBe(encoder.encode(s).byteLength);
    }
  });
});

describe('estimates', () => {
  const request = { messages: [{ role: 'user' as const, content: 'héllo 😀' }, { role: 'user' as const, content: [{ type: 'text' as const, text: 'abc' }] }] };

  it('input tokens: half the UTF-8 bytes of the text plus 16 bytes a message', () => {
    expect(estimateInputTokens(request)).toBe(Math.ceil((encoder.encode('héllo 😀').byteLength + 16 + 3 + 16) / 2));
  });

  it('the cost bound is the same with the input estimate given or computed', () => {
    const d = { name: 'd', price: { input: 3, output: 15 }, config: { maxOutputTokens: 100 } } as unknown as DeploymentInfo;
    const computed = estimateMaxCostUsd(request, [d], 50);
    expect(computed).toBe(estimateMaxCostUsd(request, [d], 50, estimateInputTokens(request)));
    expect(computed).toBeCloseTo((estimateInputTokens(request) * 3 + 100 * 15) / 1e6, 12);
  });
});
