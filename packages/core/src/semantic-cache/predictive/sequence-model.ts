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
  count: number;
  /** Transitions that continued the previous request's conversation. */
  continued: number;
  exemplar: GenerateRequest;
  exemplarOf: string;
}

interface Cluster {
  id: number;
  centroid: Float32Array;
  count: number;
  exemplar: GenerateRequest;
  /** Whose request the exemplar is (erasure). */
  exemplarOf: string;
  lastUsed: number;
}

interface KeyState {
  clusters: Map<number, Cluster>;
  transitions: Map<number, Map<number, Edge>>;
  /** Each sequence's (user's) last request. */
  last: Map<string, { cluster: number; at: number; messages: number[] }>;
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
  readonly #now: () => number;

  constructor(options: SequenceModelOptions = {}) {
    this.#threshold = options.clusterThreshold ?? 0.85;
    this.#maxClusters = options.maxClusters ?? 256;
    this.#gap = options.sessionGapMs ?? 30 * 60_000;
    this.#maxSequences = options.maxSequences ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records a request (its unit embedding) of sequence `sequence` (a user) under `key` (a tenant); returns its cluster. */
  observe(key: string, sequence: string, vector: Float32Array, request: GenerateRequest): number {
    const now = this.#now();
    let state = this.#keys.get(key);
    if (!state) {
      state = { clusters: new Map(), transitions: new Map(), last: new Map(), nextId: 0 };
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
      cluster.exemplar = request;
      cluster.exemplarOf = sequence;
      cluster.lastUsed = now;
    } else {
      cluster = { id: state.nextId++, centroid: Float32Array.from(vector), count: 1, exemplar: request, exemplarOf: sequence, lastUsed: now };
      state.clusters.set(cluster.id, cluster);
      if (state.clusters.size > this.#maxClusters) this.#forgetLeastUsed(state);
    }
    const messages = request.messages.map((m) => fnv1a(canonicalJson(m)));
    const last = state.last.get(sequence);
    if (last && now - last.at <= this.#gap && state.clusters.has(last.cluster)) {
      const row = state.transitions.get(last.cluster) ?? new Map<number, Edge>();
      const edge = row.get(cluster.id) ?? { count: 0, continued: 0, exemplar: request, exemplarOf: sequence };
      edge.count++;
      if (continues(last.messages, messages, request)) edge.continued++;
      edge.exemplar = request;
      edge.exemplarOf = sequence;
      row.set(cluster.id, edge);
      state.transitions.set(last.cluster, row);
    }
    state.last.delete(sequence); // re-inserted last: the map's order is least recently active first
    state.last.set(sequence, { cluster: cluster.id, at: now, messages });
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
    if (!victim) return;
    state.clusters.delete(victim.id);
    state.transitions.delete(victim.id);
    for (const row of state.transitions.values()) row.delete(victim.id);
  }

  /** Forgets everything learned under a key (a tenant's erasure); returns whether there was anything. */
  forget(key: string): boolean {
    return this.#keys.delete(key);
  }

  /**
   * Forgets one sequence (a user's erasure): its position, the clusters whose exemplar is its request,
   * and the transitions whose exemplar is its request.
   */
  forgetSequence(key: string, sequence: string): void {
    const state = this.#keys.get(key);
    if (!state) return;
    state.last.delete(sequence);
    for (const c of [...state.clusters.values()]) {
      if (c.exemplarOf !== sequence) continue;
      state.clusters.delete(c.id);
      state.transitions.delete(c.id);
      for (const row of state.transitions.values()) row.delete(c.id);
    }
    for (const row of state.transitions.values()) for (const [to, e] of [...row]) if (e.exemplarOf === sequence) row.delete(to);
  }
}

/** Whether `next` continues `prev`'s conversation: prev's messages, then an assistant answer, then more. */
function continues(prev: readonly number[], next: readonly number[], request: GenerateRequest): boolean {
  if (next.length < prev.length + 2) return false;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) return false;
  return request.messages[prev.length]?.role === 'assistant';
}

/** 32-bit FNV-1a of a string: a compact fingerprint of a message (continuation check only). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
