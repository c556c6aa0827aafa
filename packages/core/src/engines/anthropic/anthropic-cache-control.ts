import { LLMError } from '../../errors/llm-error.js';
import type { CacheControl } from '../../spec/messages.js';
import type { AnthropicCacheControl, AnthropicMessagesRequest } from './anthropic-api-types.js';

/**
 * Prompt-cache breakpoints on the Anthropic wire (platform.claude.com/docs/en/build-with-claude/prompt-caching):
 * - at most 4 `cache_control` marks per request, and top-level (automatic) caching takes one of the 4 slots;
 * - automatic caching lands on the last cacheable block: a mark there with another TTL is a 400;
 * - a 1-hour entry must come before every 5-minute entry (render order tools -> system -> messages);
 * - empty text blocks and thinking blocks cannot carry a mark.
 * A breakpoint is a hint: this module bends the marks to these rules instead of letting the call fail.
 */

/** Anthropic's limit of `cache_control` marks in one request, the automatic one included. */
export const ANTHROPIC_MAX_CACHE_BREAKPOINTS = 4;

/**
 * The beta that introduced the 1-hour TTL. The prompt-caching guide no longer asks for it, but clients were
 * still reported to get 5-minute entries without it (2026), so it is sent whenever a 1-hour mark is.
 */
export const EXTENDED_CACHE_TTL_BETA = 'extended-cache-ttl-2025-04-11';

type ErrorContext = { provider: string; deployment?: string };

/**
 * Our `cacheControl` -> Anthropic's `cache_control`, or undefined when there is none (`null` counts as none).
 * A malformed value is an `invalid_request` naming `param` (e.g. `messages.2.cacheControl.ttl`).
 */
export function toAnthropicCacheControl(value: CacheControl | null | undefined, param: string, ctx: ErrorContext): AnthropicCacheControl | undefined {
  if (value === undefined || value === null) return undefined;
  const fail = (field: string, what: string) =>
    new LLMError({ code: 'invalid_request', message: `${ctx.provider}: ${field} ${what}`, param: field, provider: ctx.provider, deployment: ctx.deployment });
  if (typeof value !== 'object' || Array.isArray(value)) throw fail(param, 'must be an object { type: "ephemeral", ttl?: "5m" | "1h" }');
  if (value.type !== 'ephemeral') throw fail(`${param}.type`, `must be "ephemeral", got ${JSON.stringify(value.type)}`);
  const ttl = value.ttl;
  if (ttl === undefined) return { type: 'ephemeral' };
  if (ttl !== '5m' && ttl !== '1h') throw fail(`${param}.ttl`, `must be "5m" or "1h", got ${JSON.stringify(ttl)}`);
  return { type: 'ephemeral', ttl };
}

type Marked = { cache_control?: AnthropicCacheControl };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The records of a list (fields given verbatim through providerOptions may be anything). */
function records(list: unknown): Marked[] {
  return Array.isArray(list) ? list.filter(isRecord) : [];
}

/**
 * Every object of the body that carries a `cache_control`, in render order (tools, system, messages).
 * `cache_control: null` (possible in blocks given verbatim through providerOptions; Anthropic's SDK types
 * allow it and the API treats it as no mark) is no breakpoint: it takes no slot and sets no TTL.
 */
function markedBlocks(body: AnthropicMessagesRequest): Marked[] {
  const blocks = [...records(body.tools), ...records(body.system)];
  for (const message of records(body.messages)) blocks.push(...records((message as { content?: unknown }).content));
  return blocks.filter((b) => b.cache_control !== undefined && (b.cache_control as unknown) !== null);
}

const FIVE_MINUTES: AnthropicCacheControl = Object.freeze({ type: 'ephemeral', ttl: '5m' });

/**
 * What `fitAnthropicCacheBreakpoints` did to one mark: `dropped` (not sent) or `changed` (sent with another
 * TTL). `block` is the object that carried it (a tool, a system block, a message's content block), or `null`
 * for the top-level automatic breakpoint.
 */
export interface CacheFitNote {
  block: object | null;
  kind: 'dropped' | 'changed';
  /** Why, as a clause for people (ASCII). */
  reason: string;
}

/** Hears what `fitAnthropicCacheBreakpoints` did to the marks (an object, not a closure: nothing to allocate per call). */
export interface CacheFitListener {
  fitted(note: CacheFitNote): void;
}

function ttlOf(mark: unknown): '5m' | '1h' {
  return (mark as { ttl?: unknown } | null)?.ttl === '1h' ? '1h' : '5m';
}

/**
 * Makes the body's breakpoints valid, in place (call it once the body is complete):
 * 1. With automatic caching, a mark on the last block of the last message is removed: the automatic
 *    breakpoint lands there (the same TTL would be a no-op, another TTL a 400).
 * 2. At most 4 marks in all (3 besides an automatic one): the earliest in render order are dropped, the
 *    latest kept (they cover the longest prefixes).
 * 3. A 1-hour mark after a 5-minute one becomes 5-minute; so does a 1-hour automatic breakpoint when any
 *    5-minute mark remains (it comes last).
 * The automatic breakpoint (`body.cache_control`) is honoured when it is an object, also when it came from
 * `providerOptions.anthropic`. `listener`, when given, hears of every mark dropped (rule 2) or sent with another
 * TTL (rule 3, and rule 1 when the automatic breakpoint's TTL differs from the removed mark's): never called for a
 * body without marks.
 */
export function fitAnthropicCacheBreakpoints(body: AnthropicMessagesRequest, listener?: CacheFitListener): void {
  const automatic = isRecord(body.cache_control) ? body.cache_control : undefined;
  let absorbed: { block: object; ttl: '5m' | '1h' } | undefined;
  if (automatic) {
    const lastMessage = records(body.messages).at(-1) as { content?: unknown } | undefined;
    const last = records(lastMessage?.content).at(-1);
    if (last && 'cache_control' in last) {
      if (listener && last.cache_control != null) absorbed = { block: last, ttl: ttlOf(last.cache_control) };
      delete last.cache_control;
    }
  }
  const marks = markedBlocks(body);
  if (marks.length === 0 && !automatic) return;
  const slots = ANTHROPIC_MAX_CACHE_BREAKPOINTS - (automatic ? 1 : 0);
  const dropped = Math.max(0, marks.length - slots);
  for (const block of marks.slice(0, dropped)) {
    delete block.cache_control;
    listener?.fitted({
      block,
      kind: 'dropped',
      reason: `over Anthropic's limit of ${ANTHROPIC_MAX_CACHE_BREAKPOINTS} cache breakpoints per request${automatic ? ' (automatic caching takes one)' : ''}, the earliest are not sent`,
    });
  }
  let fiveMinutesSeen = false;
  for (const block of marks.slice(dropped)) {
    if ((block.cache_control as { ttl?: unknown }).ttl !== '1h') fiveMinutesSeen = true;
    else if (fiveMinutesSeen) {
      block.cache_control = { ...FIVE_MINUTES };
      listener?.fitted({ block, kind: 'changed', reason: 'a 1-hour cache breakpoint after a 5-minute one is sent as 5-minute' });
    }
  }
  if (automatic?.ttl === '1h' && fiveMinutesSeen) {
    body.cache_control = { ...automatic, ttl: '5m' };
    listener?.fitted({ block: null, kind: 'changed', reason: 'a 1-hour automatic cache breakpoint after a 5-minute one is sent as 5-minute' });
  }
  if (absorbed) {
    const ttl = ttlOf(body.cache_control);
    if (ttl !== absorbed.ttl) {
      listener?.fitted({ block: absorbed.block, kind: 'changed', reason: `the automatic cache breakpoint lands on the last block, with its TTL (${ttl})` });
    }
  }
}

/** True when the body carries a 1-hour mark anywhere (blocks, tools, system, top level). */
export function hasOneHourCacheControl(body: Pick<AnthropicMessagesRequest, 'tools' | 'system' | 'messages' | 'cache_control'>): boolean {
  if (isRecord(body.cache_control) && body.cache_control.ttl === '1h') return true;
  return markedBlocks(body as AnthropicMessagesRequest).some((b) => b.cache_control?.ttl === '1h');
}
