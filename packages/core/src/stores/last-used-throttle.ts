/**
 * Writes `lastUsedAt` at most once per interval per key, so authentication stays a read. A clock behind the last write
 * (a wall clock stepped back by NTP) writes at once: the key's `lastUsedAt` then says the current time, not a time
 * the clock has not reached again (for as long as the step, a day after a clock ran a day ahead).
 */
export class LastUsedThrottle {
  private readonly written = new Map<string, number>();

  constructor(private readonly intervalMs = 60_000, private readonly maxEntries = 50_000) {}

  shouldWrite(keyId: string, now: number): boolean {
    const last = this.written.get(keyId);
    if (last !== undefined && now >= last && now - last < this.intervalMs) return false;
    if (this.written.size >= this.maxEntries) this.written.clear();
    this.written.set(keyId, now);
    return true;
  }
}
