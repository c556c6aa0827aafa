// utf8ByteLength now returns Buffer.byteLength where Buffer exists; the loop stays for runtimes
// without it. Both paths must count as TextEncoder does (lone surrogates as the 3 bytes of U+FFFD).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { utf8ByteLength } from './utf8-byte-length.js';

const encoder = new TextEncoder();
const tricky = ['', 'a', 'hello world', '\u00e9', '\u20ac', '\uffff', '\ud83d\ude00', '\ud800', '\udc00', 'a\ud800b', '\udc00\ud800', '\ud83d', 'x\ud83d', '\ud83d\ude00\ud83d', '\ud800\ud800\udc00', '\u4f60\u597d'];

/** Deterministic strings mixing ASCII, 2-byte, 3-byte, surrogate halves (paired or not). */
function fuzz(n: number): string[] {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    let s = '';
    const len = Math.floor(next() * 10);
    for (let i = 0; i < len; i++) {
      const r = next();
      s += String.fromCharCode(r < 0.3 ? Math.floor(next() * 0x80) : r < 0.5 ? 0xd800 + Math.floor(next() * 0x800) : Math.floor(next() * 0x10000));
    }
    return s;
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

describe('utf8ByteLength', () => {
  it('the Buffer path counts as TextEncoder does (empty, astral, lone surrogates)', () => {
    for (const s of [...tricky, ...fuzz(5_000)]) expect([s, utf8ByteLength(s)]).toEqual([s, encoder.encode(s).byteLength]);
  });

  it('the loop path (no global Buffer: a browser or edge runtime) counts the same', async () => {
    vi.stubGlobal('Buffer', undefined);
    vi.resetModules();
    const { utf8ByteLength: loop } = await import('./utf8-byte-length.js');
    expect(loop).not.toBe(utf8ByteLength);
    for (const s of [...tricky, ...fuzz(5_000)]) expect([s, loop(s)]).toEqual([s, encoder.encode(s).byteLength]);
  });
});
