import { createHash } from 'node:crypto';
import { canonicalJson } from '../../cache/canonical-json.js';
import type { CircuitBreakerConfig, ModelConfig } from '../../config/schema.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

/**
 * What an admitted attempt holds until it reports its outcome: whether it took one of the half-open
 * probe slots. A circuit gets back exactly the permits it issued (implementations add private fields).
 */
export interface CircuitPermit {
  readonly probe: boolean;
}

/** What a circuit needs from the router that owns it. */
export interface CircuitOptions {
  config: CircuitBreakerConfig;
  /** The router's clock (ms). */
  now: () => number;
  /** Called on every change of state this router sees (the router turns it into a `circuit` event). */
  onTransition?: (from: CircuitState, to: CircuitState) => void;
  /**
   * The router's `warn` option, when given: where a shared store without an error handler of its own reports the
   * backend errors this circuit meets (`RedisCircuitStateStore`; else its own `warn`, else `console.warn`).
   */
  warn?: ((message: string) => void) | undefined;
}

/**
 * One deployment's circuit as the router uses it. `state`, `openedAt` and `isAvailable()` are synchronous
 * reads of what this router knows (candidate filtering runs on every call and never waits); `acquire`
 * is the authoritative admission (synchronous in memory, one round trip for a shared store). Every
 * admitted attempt ends with exactly one of `success`, `failure` or `release`, given its permit.
 */
export interface DeploymentCircuit {
  readonly enabled: boolean;
  readonly state: CircuitState;
  /** When the circuit last opened, in the store's clock (compared between deployments only); 0 if never. */
  readonly openedAt: number;
  /** Whether a call would be admitted now, as far as this router knows. */
  isAvailable(): boolean;
  /**
   * How long (ms) the circuit stays open, as far as this router knows: the rest of its cooldown (0 when it is not
   * open: closed, half-open, or disabled). A call whose retry wait ends sooner moves on to its next deployment at
   * once; one whose wait ends later retries (admitted as a half-open probe). Optional: without it the retry waits
   * as planned and its admission decides.
   */
  reopensInMs?(): number;
  /**
   * A shared store whose failure reports are answered later: resolves once the answer to this router's latest failure
   * report is taken into its view (or the report failed, or the store's own timeout passed), undefined when none is
   * unanswered. A call whose attempt just failed waits for it (at most its retry wait) before it reads `reopensInMs`,
   * so that the store decides whether the failure opened the circuit. Optional: without it (in memory) `reopensInMs` is read at once.
   */
  failureAnswered?(): Promise<void> | undefined;
  /**
   * What this router knows, read-only and at once: as `state`, but an open circuit past its cooldown answers
   * `half-open` without becoming it (no transition, no `onTransition`). What a metrics scrape reads.
   * Optional: without it the router reads `state`.
   */
  peekLocal?(): CircuitState;
  /**
   * Admits an attempt (taking a probe slot while half-open), or undefined when the circuit refuses it.
   * `force` admits even an open circuit (every candidate was open). A promise never rejects: a shared
   * store that cannot answer decides from what this router knows.
   */
  acquire(force?: boolean): CircuitPermit | undefined | Promise<CircuitPermit | undefined>;
  /** The attempt answered. */
  success(permit?: CircuitPermit): void;
  /** The attempt failed in a way that counts against the deployment. */
  failure(permit?: CircuitPermit): void;
  /** The attempt ended without saying anything about health (aborted, invalid request, cancelled). */
  release(permit?: CircuitPermit): void;
  /**
   * Read-only: the state work that takes no permit (a token count) should go by, without changing anything:
   * no transition (an open circuit past its cooldown answers `half-open` but is not turned half-open), no
   * probe slot, no `onTransition`. A shared store asks its backend (at most its own time limit, or until
   * `signal` aborts; a promise never rejects) and answers this router's view when it cannot. Optional:
   * without it the router reads `state`.
   */
  peek?(signal?: AbortSignal): CircuitState | Promise<CircuitState>;
  /**
   * A failure, counting against the deployment, of work the circuit did not admit (a token count: counts
   * take no permit). Closed: it adds to the consecutive failures (opening at `failureThreshold`), as a
   * call's does. Half-open, or open past its cooldown: it re-opens the circuit with a fresh cooldown (the
   * provider still fails); the probes then in flight no longer count. Open within its cooldown: it adds to
   * the failures only. Optional: without it the router calls `failure()` with no permit.
   */
  unadmittedFailure?(): void;
  /** Back to closed, counters cleared. */
  reset(): void;
}

/**
 * Where circuit state lives. The router asks once per deployment for its circuit, under a key that is
 * the same in every router over the same config (`circuitKey`: the deployment name; `<tenant>:<incarnation>/<name>#<fingerprint>`
 * for a v3 tenant's own model, `<tenant>/<name>#<fingerprint>` when no incarnation is given, all parts URI-encoded;
 * the fingerprint is `circuitFingerprint` of the model's config), so routers sharing a store share open / half-open /
 * closed, and a tenant's model changed to call another upstream or key starts closed.
 *
 * - `MemoryCircuitStateStore` (the default): each router keeps its own circuits, synchronously.
 * - `RedisCircuitStateStore`: every router (process) on the same Redis and prefix shares them.
 */
export interface CircuitStateStore {
  circuit(key: string, options: CircuitOptions): DeploymentCircuit;
  /**
   * A router using the store joins it with its `warn` option (undefined: it has none, `console.warn` stands for it), and
   * calls the function returned once it is closed. A shared store tells the logs of the routers joined (each once)
   * what concerns none of their circuits in particular (`RedisCircuitStateStore`: its subscription, a Redis user that
   * may not PUBLISH). Optional: a store with nothing to report needs none.
   */
  join?(warn: ((message: string) => void) | undefined): () => void;
}

/** In-process circuits (the default): one `CircuitBreaker` per deployment per router, nothing shared. */
export class MemoryCircuitStateStore implements CircuitStateStore {
  circuit(_key: string, options: CircuitOptions): DeploymentCircuit {
    return new CircuitBreaker(options);
  }
}

/** The store a router uses when none is given. */
export const defaultCircuitStateStore: CircuitStateStore = new MemoryCircuitStateStore();

/**
 * The key of a deployment's circuit: its name, or `<tenant>/<name>` for a tenant's own model, `<tenant>:<incarnation>/
 * <name>` when the tenant's incarnation is given (`SetTenantOptions.incarnation`: a tenant created again under the id
 * has circuits of its own in a shared store), followed by `#<fingerprint>` when given (`circuitFingerprint` of the
 * tenant model's config: a model changed to call another upstream, with another key or other `timeouts`, has a circuit
 * of its own, not the open one of the config it replaced). A shared deployment's key is its name alone (the fingerprint is not used).
 * URI-encoded parts (an encoded tenant id has no `:`, an encoded name no `#`).
 */
export function circuitKey(deployment: string, tenant?: string, incarnation?: string | number, fingerprint?: string): string {
  const name = encodeURIComponent(deployment);
  if (tenant === undefined) return name;
  const key = incarnation === undefined ? `${encodeURIComponent(tenant)}/${name}` : `${encodeURIComponent(tenant)}:${encodeURIComponent(String(incarnation))}/${name}`;
  return fingerprint === undefined ? key : `${key}#${encodeURIComponent(fingerprint)}`;
}

/**
 * Fields of a model config that say nothing about the upstream a call goes to nor how it authenticates, nor whether a
 * call to it fails: routing order and weights, prices and quality, limits, the on/off switch, tags, alias and region
 * (no built-in engine reads them). In a shared circuit store (Redis) a change of one keeps the model's circuit (same
 * key); with the default memory store any change of a tenant model's config makes a new deployment, whose circuit
 * starts closed. `timeouts` is not one of them: calls that failed by a bound too short for the model opened its
 * circuit, and a model given longer ones starts closed (it is not refused by the circuit of the bound it replaced).
 */
const NOT_UPSTREAM: ReadonlySet<string> = new Set(['priority', 'weight', 'price', 'quality', 'limits', 'enabled', 'tags', 'alias', 'region']);

/**
 * A fingerprint of what a model config calls and how (engine, model, preset, baseURL, `apiKey`, `apiKeyEnv`, headers,
 * path, options, timeouts, ...: every field but `NOT_UPSTREAM`'s): the first 16 characters (96 bits) of the base64url SHA-256 of its
 * canonical JSON. Equal configs get equal fingerprints in every process (key order does not matter); it holds no
 * secret (`apiKey` and header values only go into the hash). Undefined for a config that cannot be serialized (engine
 * `options` holding a client object): its circuit is keyed without one.
 */
export function circuitFingerprint(config: ModelConfig): string | undefined {
  const upstream: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!NOT_UPSTREAM.has(k)) upstream[k] = v;
  try {
    return createHash('sha256').update(canonicalJson(upstream), 'utf8').digest('base64url').slice(0, 16);
  } catch {
    return undefined;
  }
}

/** True when an `acquire` or `peek` answer must be awaited. */
export function isPending<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
