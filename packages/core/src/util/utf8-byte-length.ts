/**
 * Bytes of `text` in UTF-8 (as `new TextEncoder().encode(text).byteLength`, lone surrogates as the 3 bytes
 * of U+FFFD), counted without encoding it.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 4 bytes for its 2 code units
      i++;
    } else bytes += 2;
  }
  return bytes;
}
