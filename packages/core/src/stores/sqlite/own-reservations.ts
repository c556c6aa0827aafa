/** One open budget reservation of this process. */
export interface OpenReservation {
  tenantId: string;
  periodKey: string;
  /** The time its period was picked at (epoch ms: the request's arrival): its settlement counts in every period at it. */
  at: number;
  /** Nano-dollars. */
  amount: number;
  expiresAt: number;
  /** Still part of its bucket's live total (false once its TTL passed). */
  counted?: boolean;
}

interface Bucket {
  /** Sum of the counted reservations. */
  total: number;
  ids: Set<string>;
  /** Earliest expiry among the counted ones (Infinity when none). */
  nextExpiry: number;
}

/** Expired reservations are remembered this long, so a late settle still charges. */
const KEEP_EXPIRED_MS = 24 * 3_600_000;
const MAX_EXPIRED = 100_000;

/**
 * This process's open budget reservations, with a live total per tenant and period. An expired
 * reservation leaves the total (its room is free again) but stays known for `KEEP_EXPIRED_MS`, so a late
 * settle is still charged.
 */
export class OwnReservations {
  private readonly byId = new Map<string, OpenReservation>();
  private readonly buckets = new Map<string, Bucket>();

  get(id: string): OpenReservation | undefined {
    return this.byId.get(id);
  }

  add(id: string, r: OpenReservation): void {
    const entry: OpenReservation = { tenantId: r.tenantId, periodKey: r.periodKey, at: r.at, amount: r.amount, expiresAt: r.expiresAt, counted: true };
    this.byId.set(id, entry);
    const k = bucketKey(r.tenantId, r.periodKey);
    let b = this.buckets.get(k);
    if (!b) this.buckets.set(k, (b = { total: 0, ids: new Set(), nextExpiry: Infinity }));
    b.total += r.amount;
    b.ids.add(id);
    if (r.expiresAt < b.nextExpiry) b.nextExpiry = r.expiresAt;
  }

  /** Forgets a reservation (settled or released). */
  remove(id: string): void {
    const r = this.byId.get(id);
    if (!r) return;
    this.byId.delete(id);
    if (!r.counted) return;
    const k = bucketKey(r.tenantId, r.periodKey);
    const b = this.buckets.get(k);
    if (!b) return;
    b.total -= r.amount;
    b.ids.delete(id);
    if (b.ids.size === 0) this.buckets.delete(k);
  }

  /** Sum of the live (unexpired) reservations of a tenant's period, nano-dollars. */
  live(tenantId: string, periodKey: string, now: number): number {
    const k = bucketKey(tenantId, periodKey);
    const b = this.buckets.get(k);
    if (!b) return 0;
    if (now >= b.nextExpiry) this.expire(k, b, now);
    return b.total;
  }

  private expire(k: string, b: Bucket, now: number): void {
    let next = Infinity;
    for (const id of b.ids) {
      const r = this.byId.get(id)!;
      if (r.expiresAt > now) {
        if (r.expiresAt < next) next = r.expiresAt;
        continue;
      }
      r.counted = false;
      b.total -= r.amount;
      b.ids.delete(id);
      // Kept (uncounted) for a late settle, then dropped.
      if (this.byId.size > MAX_EXPIRED || now - r.expiresAt > KEEP_EXPIRED_MS) this.byId.delete(id);
    }
    b.nextExpiry = next;
    if (b.ids.size === 0) this.buckets.delete(k);
    this.dropOldExpired(now);
  }

  private dropOldExpired(now: number): void {
    if (this.byId.size <= MAX_EXPIRED) return;
    for (const [id, r] of this.byId) if (!r.counted && now - r.expiresAt > KEEP_EXPIRED_MS) this.byId.delete(id);
  }
}

function bucketKey(tenantId: string, periodKey: string): string {
  return `${tenantId}\u0000${periodKey}`;
}
