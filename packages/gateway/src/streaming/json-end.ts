/**
 * Whether a tool call's arguments, fed piece by piece, are a whole JSON object or array (what tool arguments
 * are): nothing can follow them but whitespace, so the call is finished. An incremental scan of brackets and
 * strings, O(piece) per piece (re-reading the whole text on every piece made a long argument quadratic while
 * another call waited); confirmed once with `JSON.parse` when the brackets first close.
 */
export class JsonEnd {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** 0: nothing but whitespace yet; 1: an object or array started; 2: it closed; -1: never whole by this scan. */
  private phase: -1 | 0 | 1 | 2 = 0;
  private confirmed: boolean | undefined;

  feed(piece: string): void {
    if (this.phase === -1) return;
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      if (this.phase === 2) {
        // Only whitespace may follow a whole value.
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
          this.phase = -1;
          return;
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c) this.escaped = true; // backslash
        else if (c === 0x22) this.inString = false; // "
        continue;
      }
      if (c === 0x22) {
        if (this.phase === 0) {
          this.phase = -1; // a top-level string: not tool arguments
          return;
        }
        this.inString = true;
      } else if (c === 0x7b || c === 0x5b) {
        // { or [
        this.phase = 1;
        this.depth++;
      } else if (c === 0x7d || c === 0x5d) {
        // } or ]
        if (this.phase !== 1) {
          this.phase = -1;
          return;
        }
        if (--this.depth === 0) this.phase = 2;
      } else if (this.phase === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.phase = -1; // a top-level number, literal or garbage
        return;
      }
    }
  }

  /** The arguments fed so far (`args`) are whole JSON; parsed at most once. */
  whole(args: string): boolean {
    if (this.phase !== 2) return false;
    if (this.confirmed === undefined) {
      try {
        JSON.parse(args);
        this.confirmed = true;
      } catch {
        this.confirmed = false;
      }
    }
    return this.confirmed;
  }
}

/** Two argument texts with the same JSON value (they differ at most in whitespace). */
export function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}
