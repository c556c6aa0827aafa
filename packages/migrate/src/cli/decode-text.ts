/** Strict UTF-8; a BOM stays in the decoded text and is taken off by `decodeText` (the caller writes it back). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file's text without its UTF-8 byte order mark (`bom` says there was one: a rewrite puts it back), and the line of its first byte that is not UTF-8 (a Latin-1 `\xe9`, a UTF-16 file), if any: such a
 * file is read with U+FFFD in place of those bytes, which a rewrite would write back, so it is an error, never converted.
 */
export function decodeText(bytes: Uint8Array): { text: string; bom: boolean; badLine?: number } {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  try {
    return { text: UTF8.decode(body), bom };
  } catch {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    const at = text.indexOf('\uFFFD');
    return { text, bom, badLine: text.slice(0, Math.max(at, 0)).split('\n').length };
  }
}
