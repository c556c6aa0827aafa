/** Strict UTF-8; a BOM stays in the text, as `readFile(path, 'utf8')` left it (the parsers skip it). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file's text, and the line of its first byte that is not UTF-8 (a Latin-1 `\xe9`, a UTF-16 file), if any: such a
 * file is read with U+FFFD in place of those bytes, which a rewrite would write back, so it is an error, never converted.
 */
export function decodeText(bytes: Uint8Array): { text: string; badLine?: number } {
  try {
    return { text: UTF8.decode(bytes) };
  } catch {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const at = text.indexOf('\uFFFD');
    return { text, badLine: text.slice(0, Math.max(at, 0)).split('\n').length };
  }
}
