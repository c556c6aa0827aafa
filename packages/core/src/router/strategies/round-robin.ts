import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { noOptions } from './util.js';

/** Counters kept (one per tenant and candidate set of several), and last rankings (one per tenant); past it the least recently used one goes. */
const MAX_SETS = 10_000;

/** A counter: the next turn, over the set's names in the order of the call that made it. */
interface Rotation {
  next: number;
  readonly order: readonly string[];
}

/**
 * `round-robin`: rotates through the candidates, one counter per tenant and distinct candidate set (so a
 * request needing tools rotates among the tool-capable deployments independently). A set is its names whatever
 * their order: a call that lists the same deployments in another order takes the same counter, and the rotation
 * goes over the order of the call that made the counter (so candidates whose order changes between calls still
 * take turns: a, b, a, b, never a, a). Per tenant: a counter shared by
 * tenants would let one tenant's calls decide another's picks, and let a tenant count the others' calls on shared
 * deployments from its own picks (traffic the gateway shows a tenant of its own models only). A new counter starts
 * after the tenant's last call's pick: at the candidate after the first deployment of that call's ranking that is in
 * the new set (the pick, or, when the pick left the set - its circuit opened after it failed - the fallback that
 * most likely served it), so a set that loses a deployment goes on taking turns (a, b, c failing over to a, then b:
 * never a, a). A kept counter taken again after the tenant's calls over other sets goes on where it stopped: each set
 * rotates on its own (calls that alternate between two sets sharing a deployment keep both fair), so a set that
 * regains a deployment (its circuit closed) may repeat the tenant's last pick once. A
 * tenant's first counter starts at an offset hashed from the tenant and the set (never from other tenants' calls), so
 * many tenants calling once each still spread over the set; calls without a tenant start at the first candidate.
 * Past `MAX_SETS` counters (and last picks) the least recently used one is dropped (never another tenant's whole
 * rotation); a set of one deployment keeps none. State lives in the instance: each router gets its own from
 * `createRoundRobinStrategy()`.
 */
export function createRoundRobinStrategy(): Strategy {
  // Key: `<tenant length>:<tenant>` (`-` for a call without a tenant), then each candidate's name and `\u0000`, the
  // names sorted; the length prefix delimits the tenant whatever characters it holds. Map order is use order
  // (refreshed on use).
  const counters = new Map<string, Rotation>();
  // By tenant (`<tenant length>:<tenant>`, `-`): the ranking (names) of its last call over a set of several.
  const lastRankings = new Map<string, readonly string[]>();
  return {
    name: 'round-robin',
    spreads: true,
    description: 'Rotates through the candidates, one counter per tenant and candidate set.',
    checkOptions: noOptions('round-robin'),
    rank(ctx: StrategyContext): RankedCandidate[] {
      const candidates = ctx.candidates;
      const n = candidates.length;
      let turn = 0;
      let order: readonly string[] | undefined;
      let who = '';
      if (n > 1) {
        const names: string[] = new Array(n);
        for (let i = 0; i < n; i++) names[i] = candidates[i]!.name;
        const sorted = names.slice().sort();
        who = ctx.tenant === undefined ? '-' : `${ctx.tenant.length}:${ctx.tenant}`;
        let key = who;
        for (let i = 0; i < n; i++) key += sorted[i] + '\u0000';
        const kept = counters.get(key);
        const last = lastRankings.get(who);
        if (kept) {
          // A kept counter goes on where it stopped, whatever the tenant's calls over other sets picked meanwhile: each
          // set's rotation is its own (skipping the turn of the tenant's last pick starved a deployment shared by two
          // sets whose calls alternate: tool and plain calls, say). So a set that regains a deployment (its circuit
          // closed) may give the tenant the deployment that served it last once more.
          turn = kept.next;
        } else {
          const at = last === undefined ? -1 : firstIn(last, names);
          const after = at < 0 ? -1 : (at + 1) % n;
          // (A call without a tenant, library use, starts at the first candidate, as a lone user expects.)
          turn = after >= 0 ? after : ctx.tenant === undefined ? 0 : startOf(key, n);
        }
        order = kept && !sameOrder(kept.order, names) ? kept.order : undefined;
        if (ctx.preview !== true) {
          if (kept !== undefined) {
            counters.delete(key);
            kept.next = (turn + 1) % n;
            counters.set(key, kept);
          } else {
            if (counters.size >= MAX_SETS) counters.delete(counters.keys().next().value!);
            counters.set(key, { next: (turn + 1) % n, order: names });
          }
        }
      }
      const out: RankedCandidate[] = new Array(n);
      const ranked: string[] | undefined = who !== '' && ctx.preview !== true ? new Array(n) : undefined;
      for (let i = 0; i < n; i++) {
        const at = (turn + i) % n;
        // The counter's order when the call lists the set in another (names are unique among candidates).
        const d = order === undefined ? candidates[at]! : candidates.find((c) => c.name === order[at])!;
        out[i] = { deployment: d, score: n - i, factors: { turn, offset: i } };
        if (ranked) ranked[i] = d.name;
      }
      if (ranked) {
        if (!lastRankings.delete(who) && lastRankings.size >= MAX_SETS) lastRankings.delete(lastRankings.keys().next().value!);
        lastRankings.set(who, ranked);
      }
      return out;
    },
    forgetTenant(tenant: string): void {
      const prefix = `${tenant.length}:${tenant}`;
      for (const key of counters.keys()) if (key.startsWith(prefix)) counters.delete(key);
      lastRankings.delete(prefix);
    },
  };
}

/**
 * The index in `names` of the first name of `last` (a previous call's ranking) that is in `names` (the pick, or the
 * fallback that most likely served the call when the pick is not in `names`); -1 when none is.
 */
function firstIn(last: readonly string[], names: readonly string[]): number {
  for (const name of last) {
    const at = names.indexOf(name);
    if (at >= 0) return at;
  }
  return -1;
}

function sameOrder(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A new counter's first turn: FNV-1a of the key (the tenant and the set) modulo `n`. */
function startOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}
