/**
 * Writes `lastUsedAt` at most once per interval per key, so authentication stays a read. A clock behind the last write
 * (a wall clock stepped back by NTP) writes at once: the key's `lastUsedAt` then says the current time, not a time
 * the clock has not reached again (for as long as the step, a day after a clock ran a day ahead).
 */
export class LastUsedThrottle {
  private readonly written = new Map<string, number>();

  constructor(private readonly intervalMs = 60_000, private readonly maxEntries = 50_000) {}

  shouldWrite(keyId: string, now: number): boolean {
    if (!this.isDue(keyId, now)) return false;
    this.markWritten(keyId, now);
    return true;
  }

  /** Whether a use at `now` is to be written (not counted as written: `markWritten` does, when a write starts). */
  isDue(keyId: string, now: number): boolean {
    const last = this.written.get(keyId);
    return last === undefined || now < last || now - last >= this.intervalMs;
  }

  /** Counts a write of the use at `now` (started; its failure is not undone: the next use past the interval writes). */
  markWritten(keyId: string, now: number): void {
    if (this.written.size >= this.maxEntries && !this.written.has(keyId)) this.written.clear();
    this.written.set(keyId, now);
  }
}
