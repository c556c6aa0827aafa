const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/**
 * FNV-1a 64 of `s` as UTF-8 (a lone surrogate as its own three bytes, so distinct strings hash apart), as 16
 * lowercase hex digits. Not cryptographic: it only tells long strings apart (cache keys, tool names).
 */
export function fnv1a64(s: string): string {
  let h = FNV_OFFSET;
  const byte = (b: number) => {
    h = BigInt.asUintN(64, (h ^ BigInt(b)) * FNV_PRIME);
  };
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) byte(c);
    else if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    } else {
      byte(0xf0 | (c >> 18));
      byte(0x80 | ((c >> 12) & 0x3f));
      byte(0x80 | ((c >> 6) & 0x3f));
      byte(0x80 | (c & 0x3f));
    }
  }
  return h.toString(16).padStart(16, '0');
}
