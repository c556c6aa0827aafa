/** Writes `lastUsedAt` at most once per interval per key, so authentication stays a read. */
export class LastUsedThrottle {
  private readonly written = new Map<string, number>();

  constructor(private readonly intervalMs = 60_000, private readonly maxEntries = 50_000) {}

  shouldWrite(keyId: string, now: number): boolean {
    const last = this.written.get(keyId);
    if (last !== undefined && now - last < this.intervalMs) return false;
    if (this.written.size >= this.maxEntries) this.written.clear();
    this.written.set(keyId, now);
    return true;
  }
}
