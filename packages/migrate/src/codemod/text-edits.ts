/** Non-overlapping text replacements applied at once: everything outside them stays byte for byte. */
export class TextEdits {
  private readonly edits: Array<{ start: number; end: number; text: string }> = [];

  replace(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text });
  }
  insert(at: number, text: string): void {
    this.edits.push({ start: at, end: at, text });
  }
  get size(): number {
    return this.edits.length;
  }
  /** Whether [start, end) overlaps an edit already made (such a change is skipped, not merged). */
  overlaps(start: number, end: number): boolean {
    return this.edits.some((e) => start < e.end && e.start < end && !(e.start === e.end && (e.start === start || e.start === end)));
  }
  apply(source: string): string {
    const sorted = [...this.edits].sort((a, b) => a.start - b.start || a.end - b.end);
    let out = '';
    let pos = 0;
    for (const e of sorted) {
      out += source.slice(pos, e.start) + e.text;
      pos = Math.max(pos, e.end);
    }
    return out + source.slice(pos);
  }
}
