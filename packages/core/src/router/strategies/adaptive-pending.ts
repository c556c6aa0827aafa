/**
 * Decisions waiting for feedback, by request id, at most `max` in all. When full, the oldest decision of the tenant
 * with the most waiting goes first (calls without a tenant count as one more tenant; on a tie, the incoming call's
 * own tenant): one busy tenant's calls push out its own oldest decisions, not a quiet tenant's, and every tenant
 * keeps its share of `max`. Every operation is
 * O(1) (the tenants are kept in buckets by how many decisions they have waiting), except `deleteTenant`.
 */
export class PendingDecisions<P extends { tenant?: string | undefined }> {
  private readonly byId = new Map<string, P>();
  /** Request ids by tenant, oldest first. */
  private readonly byTenant = new Map<string | undefined, Set<string>>();
  /** Tenants by how many decisions they have waiting (buckets of 1 and more). */
  private readonly buckets = new Map<number, Set<string | undefined>>();
  /** The most decisions one tenant has waiting (0 when none). */
  private largest = 0;

  get size(): number {
    return this.byId.size;
  }

  get(id: string): P | undefined {
    return this.byId.get(id);
  }

  /** Remembers `p` under `id` (replacing one there), dropping the oldest of the fullest tenant's first when `max` are waiting. */
  set(id: string, p: P, max: number): void {
    this.delete(id);
    while (this.byId.size >= max && this.largest > 0) {
      // On a tie for the most waiting, the incoming call's tenant gives way (it would go above the others).
      let ids = this.byTenant.get(p.tenant);
      if (ids?.size !== this.largest) ids = this.byTenant.get(this.buckets.get(this.largest)!.values().next().value as string | undefined)!;
      this.delete(ids.values().next().value!);
    }
    this.byId.set(id, p);
    let ids = this.byTenant.get(p.tenant);
    if (!ids) this.byTenant.set(p.tenant, (ids = new Set()));
    ids.add(id);
    this.move(p.tenant, ids.size - 1, ids.size);
  }

  delete(id: string): void {
    const p = this.byId.get(id);
    if (!p) return;
    this.byId.delete(id);
    const ids = this.byTenant.get(p.tenant)!;
    ids.delete(id);
    if (ids.size === 0) this.byTenant.delete(p.tenant);
    this.move(p.tenant, ids.size + 1, ids.size);
  }

  /** Drops every decision of `tenant`'s calls. */
  deleteTenant(tenant: string): void {
    const ids = this.byTenant.get(tenant);
    if (!ids) return;
    this.byTenant.delete(tenant);
    this.move(tenant, ids.size, 0);
    for (const id of ids) this.byId.delete(id);
  }

  /** Moves `tenant` from the bucket of `from` waiting decisions to that of `to`. */
  private move(tenant: string | undefined, from: number, to: number): void {
    if (from > 0) {
      const b = this.buckets.get(from)!;
      b.delete(tenant);
      if (b.size === 0) this.buckets.delete(from);
    }
    if (to > 0) {
      let b = this.buckets.get(to);
      if (!b) this.buckets.set(to, (b = new Set()));
      b.add(tenant);
    }
    if (to > this.largest) this.largest = to;
    // Down by one, the tenant itself is in the bucket below; only `deleteTenant` can walk further.
    while (this.largest > 0 && !this.buckets.has(this.largest)) this.largest--;
  }
}
