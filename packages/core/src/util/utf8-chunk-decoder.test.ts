import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';
import { Utf8ChunkDecoder } from './utf8-chunk-decoder.js';

/** What one `TextDecoder` in streaming mode makes of `chunks` (the reference). */
function reference(chunks: Uint8Array[]): string[] {
  const d = new TextDecoder();
  return [...chunks.map((c) => d.decode(c, { stream: true })), d.decode()];
}

function ours(chunks: Uint8Array[]): string[] {
  const d = new Utf8ChunkDecoder();
  return [...chunks.map((c) => d.decode(c)), d.end()];
}

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);

/** Pieces of UTF-8 text, valid and not, that a random stream is made of. */
const PIECES: Uint8Array[] = [
  enc('data: {"x":1}\n\n'),
  enc('a'),
  enc('\n'),
  enc('\u00e9'),
  enc('\u20ac'),
  enc('\u{1f600}'),
  enc('\ufeff'),
  bytes(0xff),
  bytes(0xc3),
  bytes(0xe2, 0x82),
  bytes(0xf0, 0x9f, 0x98),
  bytes(0x80),
  bytes(0xed, 0xa0, 0x80),
  bytes(0xc0, 0xaf),
];

describe('Utf8ChunkDecoder', () => {
  it('drops a leading byte order mark once, as TextDecoder does, whole or split, and keeps a later one', () => {
    expect(ours([bytes(0xef, 0xbb, 0xbf, 0x41, 0x0a), enc('\ufeffb\n')]).join('')).toBe('A\n\ufeffb\n');
    expect(ours([bytes(0xef), bytes(0xbb), bytes(0xbf), enc('A\n'), enc('\ufeffB\n')]).join('')).toBe('A\n\ufeffB\n');
    expect(ours([new Uint8Array(0), enc('\ufeffA\n'), enc('\ufeffB\n')]).join('')).toBe('A\n\ufeffB\n');
  });

  it('joins a character split across chunks and replaces a cut-off one at the end', () => {
    expect(ours([bytes(0x41, 0xe2), bytes(0x82, 0xac, 0x0a), enc('b\n')])).toEqual(['A', '\u20ac\n', 'b\n', '']);
    expect(ours([enc('a\n'), bytes(0x41, 0xf0, 0x9f)])).toEqual(['a\n', 'A', '\ufffd']);
    expect(ours([enc('a\n'), bytes(0xc3), enc('b\n')])).toEqual(['a\n', '', '\ufffdb\n', '']);
  });

  it('matches one streaming TextDecoder on 2000 random streams cut at random places', () => {
    const random = seededRandom(20261126);
    for (let run = 0; run < 2000; run++) {
      const parts: number[] = [];
      const pieces = 1 + Math.floor(random() * 12);
      for (let i = 0; i < pieces; i++) parts.push(...PIECES[Math.floor(random() * PIECES.length)]!);
      const all = new Uint8Array(parts);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < all.length; ) {
        const size = Math.floor(random() * 6);
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
      expect(ours(chunks), `run ${run}: ${[...all].map((b) => b.toString(16)).join(' ')}`).toEqual(reference(chunks));
    }
  });
});
