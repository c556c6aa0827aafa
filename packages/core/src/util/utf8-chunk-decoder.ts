const STREAM = { stream: true } as const;

/** Decodes whole chunks: never used in streaming mode, so it holds nothing between calls (one for all streams). */
const WHOLE = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Decodes a UTF-8 byte stream chunk by chunk exactly as one `TextDecoder` with `{ stream: true }` does (a byte
 * order mark at the start dropped, invalid bytes as U+FFFD, a character split across chunks joined), for less:
 * a chunk that ends in an ASCII byte while nothing is held from the chunk before (an SSE chunk ends with a
 * newline) is decoded whole, on Node's UTF-8 fast path, by one shared decoder never used in streaming mode. A
 * streaming decoder is made only for a chunk that may end inside a character; it takes that chunk and the next.
 */
export class Utf8ChunkDecoder {
  /** Made for the first chunk that may end inside a character (most streams never need one). */
  private streaming: InstanceType<typeof TextDecoder> | undefined;
  /** The streaming decoder may hold the start of a character: the next chunk goes to it too. */
  private holding = false;
  /** No text decoded yet: a byte order mark at the start is dropped. */
  private atStart = true;

  decode(chunk: Uint8Array): string {
    const n = chunk.length;
    if (n === 0) return '';
    const last = chunk[n - 1]!;
    if (last < 0x80 && !this.holding) {
      const text = WHOLE.decode(chunk);
      if (!this.atStart) return text;
      this.atStart = false;
      return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    }
    // Made at the start, it drops the byte order mark itself; made later, it keeps one.
    this.streaming ??= new TextDecoder('utf-8', { ignoreBOM: !this.atStart });
    this.holding = last >= 0x80;
    const text = this.streaming.decode(chunk, STREAM);
    if (text !== '') this.atStart = false;
    return text;
  }

  /** The stream ended: what is left (U+FFFD for a character cut off). */
  end(): string {
    return this.streaming?.decode() ?? '';
  }
}
