import { canonicalJson } from '../../cache/canonical-json.js';
import { dot, normalize } from '../../embeddings/embedder.js';
import type { GenerateRequest } from '../../spec/index.js';

export interface SequenceModelOptions {
  /** Cosine similarity from which a request joins an existing cluster. Default 0.85. */
  clusterThreshold?: number;
  /** Most clusters kept per key (tenant or user); past it the least used is forgotten. Default 256. */
  maxClusters?: number;
  /** A gap longer than this starts a new session (no transition is learned across it). Default 30 min. */
  sessionGapMs?: number;
  /** Most sequences (users) whose last request is remembered per key; the least recently active go. Default 10,000. */
  maxSequences?: number;
  /**
   * Bound on the requests kept per key as transition exemplars (what a prediction pre-computes: whole requests, with
   * their context), in characters of their JSON: past it the least recently seen transitions are forgotten, and a
   * request larger on its own is not learned as a transition. Default 16,000,000.
   */
  maxExemplarBytes?: number;
  now?: () => number;
}

export interface Prediction {
  cluster: number;
  /** Estimated P(next request is in `cluster` | last request's cluster). */
  probability: number;
  /** How many transitions the estimate rests on. */
  support: number;
  /**
   * The latest request that followed the source cluster into this one (not merely the latest of the
   * cluster: two follow-ups in one cluster keep their own wording per source): what would be pre-computed.
   */
  request: GenerateRequest;
  /**
   * True when most of these transitions continued the same conversation (the next request's messages
   * start with the previous request's messages and an assistant answer): the next request is then the
   * current conversation plus the answer plus `request`'s question, not `request` as it was.
   */
  continuation: boolean;
}

interface Edge {
  from: number;
  to: number;
  count: number;
  /** Transitions that continued the previous request's conversation. */
  continued: number;
  exemplar: GenerateRequest;
  exemplarOf: string;
  /** The exemplar's size (`messagesPrefix`: characters of its JSON), counted in `KeyState.bytes`. */
  bytes: number;
}

interface Cluster {
  id: number;
  centroid: Float32Array;
  count: number;
  /** Whose request joined it last (erasure: the centroid moved toward it). No request is kept: predictions replay an edge's. */
  exemplarOf: string;
  lastUsed: number;
}

/** A sequence's last request: its cluster, when, and a fingerprint of its messages (the continuation check). */
interface LastRequest {
  cluster: number;
  at: number;
  /** How many messages it had. */
  count: number;
  /** 32-bit FNV-1a of its canonical messages (`messagesPrefix`): a fixed size, whatever the conversation's length. */
  prefix: number;
}

interface KeyState {
  clusters: Map<number, Cluster>;
  transitions: Map<number, Map<number, Edge>>;
  /** Every edge, least recently seen first (eviction by `maxExemplarBytes`). */
  edges: Set<Edge>;
  /** The sum of the edges' `bytes`. */
  bytes: number;
  /** Each sequence's (user's) last request. */
  last: Map<string, LastRequest>;
  nextId: number;
}

/**
 * A first-order Markov model over clusters of requests, one per key (a tenant): requests are clustered
 * online by embedding (leader clustering on cosine similarity), and consecutive requests of one sequence
 * (a user) within a session count as transitions between their clusters. Learning per tenant from every
 * user's sequence needs far fewer requests than a model per user.
 */
export class SequenceModel {
  readonly #keys = new Map<string, KeyState>();
  readonly #threshold: number;
  readonly #maxClusters: number;
  readonly #gap: number;
  readonly #maxSequences: number;
  readonly #maxBytes: number;
  readonly #now: () => number;

  constructor(options: SequenceModelOptions = {}) {
    this.#threshold = options.clusterThreshold ?? 0.85;
    this.#maxClusters = options.maxClusters ?? 256;
    this.#gap = options.sessionGapMs ?? 30 * 60_000;
    this.#maxSequences = options.maxSequences ?? 10_000;
    this.#maxBytes = options.maxExemplarBytes ?? 16_000_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records a request (its unit embedding) of sequence `sequence` (a user) under `key` (a tenant); returns its cluster. */
  observe(key: string, sequence: string, vector: Float32Array, request: GenerateRequest): number {
    const now = this.#now();
    let state = this.#keys.get(key);
    if (!state) {
      state = { clusters: new Map(), transitions: new Map(), edges: new Set(), bytes: 0, last: new Map(), nextId: 0 };
      this.#keys.set(key, state);
    }
    let best: Cluster | undefined;
    let bestScore = -Infinity;
    for (const c of state.clusters.values()) {
      const s = dot(c.centroid, vector);
      if (s > bestScore) [best, bestScore] = [c, s];
    }
    let cluster: Cluster;
    if (best && bestScore >= this.#threshold) {
      cluster = best;
      // Running mean, renormalized.
      const w = 1 / (cluster.count + 1);
      for (let i = 0; i < vector.length; i++) cluster.centroid[i] = cluster.centroid[i]! * (1 - w) + vector[i]! * w;
      normalize(cluster.centroid);
      cluster.count++;
      cluster.exemplarOf = sequence;
      cluster.lastUsed = now;
    } else {
      cluster = { id: state.nextId++, centroid: Float32Array.from(vector), count: 1, exemplarOf: sequence, lastUsed: now };
      state.clusters.set(cluster.id, cluster);
      if (state.clusters.size > this.#maxClusters) this.#forgetLeastUsed(state);
    }
    const last = state.last.get(sequence);
    const fingerprint = messagesPrefix(request, last?.count);
    if (last && now - last.at <= this.#gap && state.clusters.has(last.cluster) && fingerprint.size <= this.#maxBytes) {
      let row = state.transitions.get(last.cluster);
      if (!row) state.transitions.set(last.cluster, (row = new Map<number, Edge>()));
      let edge = row.get(cluster.id);
      if (edge) {
        state.edges.delete(edge); // re-inserted last: the set's order is least recently seen first
        state.bytes -= edge.bytes;
      } else {
        edge = { from: last.cluster, to: cluster.id, count: 0, continued: 0, exemplar: request, exemplarOf: sequence, bytes: 0 };
        row.set(cluster.id, edge);
      }
      edge.count++;
      if (continues(last, fingerprint.prefixAt, request)) edge.continued++;
      edge.exemplar = request;
      edge.exemplarOf = sequence;
      edge.bytes = fingerprint.size;
      state.edges.add(edge);
      state.bytes += edge.bytes;
      for (const oldest of state.edges) {
        if (state.bytes <= this.#maxBytes) break;
        this.#dropEdge(state, oldest);
      }
    }
    state.last.delete(sequence); // re-inserted last: the map's order is least recently active first
    state.last.set(sequence, { cluster: cluster.id, at: now, count: request.messages.length, prefix: fingerprint.prefix });
    if (state.last.size > this.#maxSequences) state.last.delete(state.last.keys().next().value!);
    return cluster.id;
  }

  /** The likeliest next clusters after `cluster` (default: the last one of `sequence`), best first. */
  predict(key: string, options: { cluster?: number; sequence?: string; limit?: number; minProbability?: number; minSupport?: number } = {}): Prediction[] {
    const state = this.#keys.get(key);
    const from = options.cluster ?? (options.sequence !== undefined ? state?.last.get(options.sequence)?.cluster : undefined);
    if (!state || from === undefined) return [];
    const row = state.transitions.get(from);
    if (!row) return [];
    let total = 0;
    for (const e of row.values()) total += e.count;
    const out: Prediction[] = [];
    for (const [to, e] of row) {
      const n = e.count;
      const probability = n / total;
      if (!state.clusters.has(to) || n < (options.minSupport ?? 2) || probability < (options.minProbability ?? 0.3)) continue;
      out.push({ cluster: to, probability, support: n, request: e.exemplar, continuation: e.continued * 2 > n });
    }
    out.sort((a, b) => b.probability - a.probability);
    return out.slice(0, options.limit ?? 1);
  }

  #forgetLeastUsed(state: KeyState): void {
    let victim: Cluster | undefined;
    for (const c of state.clusters.values()) if (!victim || c.lastUsed < victim.lastUsed) victim = c;
    if (victim) this.#dropCluster(state, victim.id);
  }

  /** Forgets a cluster and every transition from or to it. */
  #dropCluster(state: KeyState, id: number): void {
    state.clusters.delete(id);
    for (const edge of state.transitions.get(id)?.values() ?? []) this.#dropEdge(state, edge);
    for (const row of state.transitions.values()) {
      const edge = row.get(id);
      if (edge) this.#dropEdge(state, edge);
    }
  }

  #dropEdge(state: KeyState, edge: Edge): void {
    state.edges.delete(edge);
    state.bytes -= edge.bytes;
    const row = state.transitions.get(edge.from);
    row?.delete(edge.to);
    if (row?.size === 0) state.transitions.delete(edge.from);
  }

  /** What a key keeps as transition exemplars (`maxExemplarBytes` bounds it) and how many transitions, for stats and tests. */
  exemplarBytes(key: string): { bytes: number; transitions: number } {
    const state = this.#keys.get(key);
    return { bytes: state?.bytes ?? 0, transitions: state?.edges.size ?? 0 };
  }

  /** Forgets everything learned under a key (a tenant's erasure); returns whether there was anything. */
  forget(key: string): boolean {
    return this.#keys.delete(key);
  }

  /**
   * Ends a sequence's current run: its next request is not taken as following its last one (a request in between was
   * not observed: the prefetcher skips a question its embedder does not tell apart).
   */
  interrupt(key: string, sequence: string): void {
    this.#keys.get(key)?.last.delete(sequence);
  }

  /**
   * Forgets one sequence (a user's erasure): its position, the clusters whose exemplar is its request,
   * and the transitions whose exemplar is its request.
   */
  forgetSequence(key: string, sequence: string): void {
    const state = this.#keys.get(key);
    if (!state) return;
    state.last.delete(sequence);
    for (const c of [...state.clusters.values()]) if (c.exemplarOf === sequence) this.#dropCluster(state, c.id);
    for (const e of [...state.edges]) if (e.exemplarOf === sequence) this.#dropEdge(state, e);
  }
}

/** Whether `request` continues `prev`'s conversation: prev's messages (same fingerprint), then an assistant answer, then more. */
function continues(prev: LastRequest, prefixAt: number | undefined, request: GenerateRequest): boolean {
  if (request.messages.length < prev.count + 2 || prefixAt !== prev.prefix) return false;
  return request.messages[prev.count]?.role === 'assistant';
}

const FNV_OFFSET = 0x811c9dc5;

/**
 * One pass over a request: 32-bit FNV-1a of its canonical messages (each followed by a NUL) as `prefix`, the same
 * over its first `at` messages as `prefixAt` (when it has that many), and its `size`: the characters of its
 * messages' and other fields' JSON (what keeping it as an exemplar costs, about).
 */
function messagesPrefix(request: GenerateRequest, at: number | undefined): { prefix: number; prefixAt: number | undefined; size: number } {
  let h = FNV_OFFSET;
  let prefixAt = at === 0 ? h : undefined;
  let size = 0;
  request.messages.forEach((m, i) => {
    const json = canonicalJson(m);
    size += json.length;
    for (let k = 0; k < json.length; k++) h = Math.imul(h ^ json.charCodeAt(k), 0x01000193);
    h = Math.imul(h, 0x01000193); // the NUL separator
    if (i + 1 === at) prefixAt = h >>> 0;
  });
  const { messages: _messages, ...rest } = request;
  size += canonicalJson(rest).length;
  return { prefix: h >>> 0, prefixAt, size };
}
