import { LLMError } from '../../errors/llm-error.js';
import type { CacheControl, ChatMessage, GenerateRequest } from '../../spec/index.js';
import { frameValue } from './prefix-frame.js';

/** How long a provider keeps a cached prefix: `ttlMs` for 5-minute marks (and keys), `ttl1hMs` for `'1h'` marks. */
export interface AffinityTtls {
  ttlMs: number;
  ttl1hMs: number;
}

/** Who may share affinity: never across tenants, never across requested models. */
export interface AffinityScope {
  tenant?: string | undefined;
  /** The requested deployment name or alias (undefined: the router picks the model). */
  model?: string | undefined;
}

/** A key and how long its prefix stays cached at the provider once written or read. */
export interface AffinityKey {
  key: string;
  ttlMs: number;
}

/** The affinity keys of one request. */
export interface AffinityKeys {
  /** What keyed it: the caller's `promptCacheKey`, or hashes of its marked prompt prefixes. */
  source: 'promptCacheKey' | 'prefix';
  /** Keys to look up, longest prefix first: the marked prefixes and the message ends before the last mark. */
  lookup: string[];
  /** Keys to remember for the deployment that answers: the prefixes the provider caches (the marked ones). */
  remember: AffinityKey[];
}

/**
 * How many message ends before the last mark are looked up besides the marks themselves: a conversation's
 * last mark moves forward every turn, and the previous turn's mark is then one of these ends (Anthropic
 * likewise looks back up to 20 blocks for an earlier cache entry).
 */
export const AFFINITY_LOOKBACK = 20;

/**
 * Marks a provider can use in one request: Anthropic takes at most 4 (the engine keeps the last 4 in render
 * order), so only those prefixes are cached and only those are remembered or looked up as marks.
 */
export const AFFINITY_MAX_MARKS = 4;

/** Part of every key: 2 since prefixes are framed (prefix-frame.ts) instead of canonical JSON. */
const KEY_VERSION = 2;

/** True when the request carries a `promptCacheKey` or any cache mark (request, tool, message, part). */
export function hasAffinitySignal(request: GenerateRequest): boolean {
  if (request.promptCacheKey !== undefined || request.cacheControl !== undefined) return true;
  const tools = request.tools;
  if (tools) for (let i = 0; i < tools.length; i++) if (tools[i]!.cacheControl !== undefined) return true;
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.cacheControl !== undefined) return true;
    if (m.role === 'system') {
      if (m.parts) for (let j = 0; j < m.parts.length; j++) if (m.parts[j]!.cacheControl !== undefined) return true;
    } else if (m.role === 'user' && typeof m.content !== 'string') {
      const parts = m.content;
      for (let j = 0; j < parts.length; j++) if (parts[j]!.cacheControl !== undefined) return true;
    }
  }
  return false;
}

interface Block {
  /** The block framed for hashing (frameValue). */
  json: string;
  mark: CacheControl | undefined;
  /** The last block of a message. */
  messageEnd: boolean;
}

function strip<T extends { cacheControl?: unknown }>(item: T): Omit<T, 'cacheControl'> {
  if (item.cacheControl === undefined) return item;
  const { cacheControl: _, ...rest } = item;
  return rest;
}

function pushMessage(blocks: Block[], m: ChatMessage): void {
  if (m.role === 'system' && m.parts && m.parts.length > 0) {
    for (let j = 0; j < m.parts.length; j++) {
      const p = m.parts[j]!;
      const last = j === m.parts.length - 1;
      blocks.push({ json: frameValue({ role: 'system', part: strip(p) }), mark: p.cacheControl ?? (last ? m.cacheControl : undefined), messageEnd: last });
    }
    return;
  }
  if (m.role === 'user' && typeof m.content !== 'string' && m.content.length > 0) {
    const head = m.name !== undefined ? { role: 'user', name: m.name } : { role: 'user' };
    for (let j = 0; j < m.content.length; j++) {
      const p = m.content[j]!;
      const last = j === m.content.length - 1;
      blocks.push({ json: frameValue({ ...head, part: strip(p) }), mark: p.cacheControl ?? (last ? m.cacheControl : undefined), messageEnd: last });
    }
    return;
  }
  const body: Record<string, unknown> = { ...strip(m) };
  if (m.role === 'system') delete body['parts'];
  blocks.push({ json: frameValue(body), mark: m.cacheControl, messageEnd: true });
}

/**
 * The prompt as the provider caches it, in Anthropic's render order (tools, then the leading system messages,
 * then the other messages), one block per tool, system part, user content part or message, without the marks:
 * a mark placed or moved never changes a prefix's key. A system message after the conversation started stays
 * in its place (Claude Opus 4.8 takes it there, so the prefix before it stays cached); where a deployment
 * joins it into the top-level system prompt instead, the provider's cache misses anyway.
 */
function promptBlocks(request: GenerateRequest): Block[] {
  const blocks: Block[] = [];
  const tools = request.tools;
  if (tools) for (let i = 0; i < tools.length; i++) blocks.push({ json: frameValue({ tool: strip(tools[i]!) }), mark: tools[i]!.cacheControl, messageEnd: false });
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) pushMessage(blocks, messages[i]!);
  return blocks;
}

/** The part of `node:crypto` used here, reached without a static import so core still loads on edge runtimes. */
interface NodeHash {
  update(text: string): NodeHash;
  copy(): NodeHash;
  digest(encoding: 'hex'): string;
}
type CreateHash = (algorithm: 'sha256') => NodeHash;

function findNodeCreateHash(): CreateHash | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const mod = proc?.getBuiltinModule?.('node:crypto') as { createHash?: unknown } | undefined;
    return typeof mod?.createHash === 'function' ? (mod.createHash as CreateHash) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Node's synchronous, incremental SHA-256 (`process.getBuiltinModule`, Node >= 20.16), else undefined and Web
 * Crypto is used. Measured on a 10-turn conversation (tools/bench/affinity-route-ab.ts): Web Crypto's digest
 * per prefix costs ~0.45 ms a decision, the incremental hash a few microseconds.
 */
let nodeCreateHash: CreateHash | undefined | null = null;

/** For tests: force the Web Crypto path (`true`), or go back to detecting Node's hash (`false`). */
export function useWebCryptoForAffinity(force: boolean): void {
  nodeCreateHash = force ? undefined : null;
}

/** SHA-256 (hex) of `header` plus each block up to `blocks[at[j]]`, for every j, with one pass over the blocks. */
async function prefixHashes(header: string, blocks: readonly Block[], at: readonly number[]): Promise<string[]> {
  if (nodeCreateHash === null) nodeCreateHash = findNodeCreateHash();
  const out: string[] = new Array(at.length);
  let next = at.length - 1;
  const end = at[0]!;
  if (nodeCreateHash) {
    const hash = nodeCreateHash('sha256').update(header);
    for (let i = 0; i <= end && next >= 0; i++) {
      hash.update(`\n${blocks[i]!.json}`);
      if (at[next] === i) {
        out[next] = next === 0 ? hash.digest('hex') : hash.copy().digest('hex');
        next--;
      }
    }
    return out;
  }
  const texts: string[] = new Array(at.length);
  let prefix = header;
  for (let i = 0; i <= end && next >= 0; i++) {
    prefix += `\n${blocks[i]!.json}`;
    if (at[next] === i) {
      texts[next] = prefix;
      next--;
    }
  }
  return Promise.all(texts.map(sha256Hex));
}

async function sha256Hex(text: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new LLMError({ code: 'unsupported', message: 'Prompt-cache affinity needs Web Crypto (globalThis.crypto.subtle), which this runtime lacks; set routing.promptCacheAffinity.enabled: false' });
  }
  const digest = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let hex = '';
  for (let i = 0; i < digest.length; i++) hex += digest[i]!.toString(16).padStart(2, '0');
  return hex;
}

/**
 * The affinity keys of a request, or undefined when it has none (no `promptCacheKey`, no mark). With a
 * `promptCacheKey`, that key alone (scoped by tenant and model). Otherwise SHA-256 of the scope plus the
 * framed blocks (prefix-frame.ts) of each marked prefix the provider uses (tools + system + messages up to
 * and including the marked block; only the last `AFFINITY_MAX_MARKS` marks in render order; a request-level
 * `cacheControl` marks the whole prompt, in place of the last block's own mark), each remembered for the TTL the provider keeps it (a 1-hour mark
 * after a 5-minute one is sent as 5 minutes), and of the message ends up to `AFFINITY_LOOKBACK` before the
 * last mark, for lookup only.
 */
export async function affinityKeys(request: GenerateRequest, scope: AffinityScope, ttls: AffinityTtls): Promise<AffinityKeys | undefined> {
  const header = frameValue({ v: KEY_VERSION, tenant: scope.tenant ?? null, model: scope.model ?? null });
  if (request.promptCacheKey !== undefined) {
    const key = `k:${(await prefixHashes(header, [{ json: request.promptCacheKey, mark: undefined, messageEnd: true }], [0]))[0]!}`;
    return { source: 'promptCacheKey', lookup: [key], remember: [{ key, ttlMs: request.cacheControl?.ttl === '1h' ? ttls.ttl1hMs : ttls.ttlMs }] };
  }
  const blocks = promptBlocks(request);
  if (blocks.length === 0) return undefined;
  // The request-level mark (automatic caching) is the breakpoint on the last block, with its own TTL: the
  // Anthropic engine drops a mark on that block (fitAnthropicCacheBreakpoints) and caches the prefix there as the
  // automatic one says.
  const last = blocks.length - 1;
  if (request.cacheControl !== undefined) blocks[last] = { ...blocks[last]!, mark: request.cacheControl };
  // The marks the provider uses: the last AFFINITY_MAX_MARKS in render order.
  const marks: number[] = [];
  for (let i = last; i >= 0 && marks.length < AFFINITY_MAX_MARKS; i--) if (blocks[i]!.mark !== undefined) marks.push(i);
  if (marks.length === 0) return undefined;
  const lastMark = marks[0]!;
  // Their TTLs as the provider keeps them: a 1-hour mark after a 5-minute one is sent as 5 minutes.
  const ttlAt = new Map<number, number>();
  let fiveMinutesSeen = false;
  for (let j = marks.length - 1; j >= 0; j--) {
    const oneHour = blocks[marks[j]!]!.mark!.ttl === '1h' && !fiveMinutesSeen;
    if (!oneHour) fiveMinutesSeen = true;
    ttlAt.set(marks[j]!, oneHour ? ttls.ttl1hMs : ttls.ttlMs);
  }
  // Boundaries to hash, longest first: the kept marks, and up to AFFINITY_LOOKBACK message ends before the last mark.
  const at: number[] = [];
  let ends = 0;
  for (let i = lastMark; i >= 0; i--) {
    if (ttlAt.has(i)) at.push(i);
    else if (blocks[i]!.messageEnd && ends < AFFINITY_LOOKBACK) {
      ends++;
      at.push(i);
    } else if (ends >= AFFINITY_LOOKBACK && i < marks[marks.length - 1]!) break;
  }
  const hashes = await prefixHashes(header, blocks, at);
  const lookup: string[] = new Array(at.length);
  const remember: AffinityKey[] = [];
  for (let j = 0; j < at.length; j++) {
    const key = `p:${hashes[j]!}`;
    lookup[j] = key;
    const ttlMs = ttlAt.get(at[j]!);
    if (ttlMs !== undefined) remember.push({ key, ttlMs });
  }
  return { source: 'prefix', lookup, remember };
}
