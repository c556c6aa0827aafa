import { LLMError, type CallWarning, type ReasoningPart } from '@llmrr/core';
import { notSent } from '../schemas/responses-nested-fields.js';

/*
 * The gateway's `encrypted_content` of a `reasoning` output item (asked for with `include:
 * ["reasoning.encrypted_content"]`): the item's reasoning blocks as the provider signed them, so a stateless
 * client that gives the item back (the openai SDK, the Agents SDK, Codex with `store: false`) gives back what the
 * provider needs to go on thinking in a tool loop (Anthropic's signed `thinking` and `redacted_thinking` blocks).
 *
 * The value is `llmrr.reasoning.v1:` and JSON `{ "provider": "anthropic", "blocks": [...] }`, a block being
 * `{ "text", "signature" }`, `{ "redactedData" }` or `{ "text" }` (core's `ReasoningPart` fields). It is neither
 * encrypted nor authenticated (no MAC): the gateway cannot tell its own values from a well-formed one made elsewhere,
 * only malformed ones; the provider verifies its own signatures (Anthropic refuses a block that was changed or made
 * up, after the call).
 */

/** The start of every value the gateway makes: a client can tell it from OpenAI's (`gAAAA...`) and its version. */
export const ENCRYPTED_REASONING_PREFIX = 'llmrr.reasoning.v1:';

/** The only provider whose signed blocks an engine takes back (core's Anthropic engine). */
const SIGNING_PROVIDER = 'anthropic';

/** A part the provider needs back as it came: signed, or an encrypted (redacted) block. */
function isSigned(p: ReasoningPart): boolean {
  return p.signature !== undefined || p.redactedData !== undefined;
}

/**
 * The `encrypted_content` of reasoning blocks `parts` from `provider`, or undefined when none is signed (nothing
 * the provider needs back: the item's text says it all).
 */
export function encryptReasoning(provider: string, parts: readonly ReasoningPart[] | undefined): string | undefined {
  if (parts === undefined || !parts.some(isSigned)) return undefined;
  const blocks = parts.map((p) =>
    p.redactedData !== undefined ? { redactedData: p.redactedData } : p.signature !== undefined ? { text: p.text, signature: p.signature } : { text: p.text },
  );
  return ENCRYPTED_REASONING_PREFIX + JSON.stringify({ provider, blocks });
}

function isBlock(b: unknown): b is { text?: string; signature?: string; redactedData?: string } {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  const { text, signature, redactedData } = b as Record<string, unknown>;
  if (redactedData !== undefined) return typeof redactedData === 'string' && text === undefined && signature === undefined;
  return typeof text === 'string' && (signature === undefined || typeof signature === 'string');
}

/**
 * The reasoning blocks of an input reasoning item's `encrypted_content` (`at`: its path, `input.N.encrypted_content`):
 * - the gateway's value from an Anthropic answer: its blocks, signatures included;
 * - another service's value (OpenAI's, no gateway prefix) or the gateway's from another provider: undefined, and a
 *   `setting_not_sent` warning naming `at` in `warnings` (no deployment here can read it; the item's text still goes);
 * - a value with the gateway's prefix that is malformed (not JSON of this shape: cut, or changed beyond it): a 400
 *   `invalid_request` naming `at`. A well-formed value is taken as it is (nothing authenticates it): its signatures
 *   are the provider's to check.
 */
export function decryptReasoning(value: string, at: string, warn: (w: CallWarning) => void): ReasoningPart[] | undefined {
  if (!value.startsWith(ENCRYPTED_REASONING_PREFIX)) {
    warn(notSent(at, "was not sent: it is not this gateway's (another service's encrypted reasoning, which no deployment here can read); the item's reasoning text is sent as it is."));
    return undefined;
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(value.slice(ENCRYPTED_REASONING_PREFIX.length));
  } catch {
    decoded = undefined;
  }
  const { provider, blocks } = (typeof decoded === 'object' && decoded !== null ? decoded : {}) as { provider?: unknown; blocks?: unknown };
  if (typeof provider !== 'string' || !Array.isArray(blocks) || !blocks.every(isBlock)) {
    throw new LLMError({
      code: 'invalid_request',
      message: `Invalid request: ${at}: malformed (not JSON of this shape: ${ENCRYPTED_REASONING_PREFIX} then { "provider", "blocks" }); give the reasoning item back as the gateway answered it`,
      param: at,
    });
  }
  if (provider !== SIGNING_PROVIDER) {
    warn(notSent(at, `was not sent: it holds ${provider} reasoning, which no engine takes back; the item's reasoning text is sent as it is.`));
    return undefined;
  }
  return blocks.map((b): ReasoningPart =>
    b.redactedData !== undefined ? { type: 'reasoning', text: '', redactedData: b.redactedData } : b.signature !== undefined ? { type: 'reasoning', text: b.text!, signature: b.signature } : { type: 'reasoning', text: b.text! },
  );
}
