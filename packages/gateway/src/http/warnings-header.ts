import type { CallWarning } from '@llmrr/core';

/** The most characters `x-llmrr-warnings` takes (proxies commonly refuse header lines over 8 KiB). */
export const WARNINGS_HEADER_MAX = 4096;

/** A warning's message goes in the header only when its sf-string is at most this long. */
const MESSAGE_MAX = 200;

/** RFC 8941 sf-token: `( ALPHA / "*" ) *( tchar / ":" / "/" )`. */
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*$/;

/** Anything an sf-string cannot hold as it is: outside printable ASCII (%x20-7E), or `"` and `\` (escaped). */
const NOT_STRING_SAFE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;

/**
 * `text` as an RFC 8941 sf-string: `"` and `\` escaped with `\`; characters outside printable ASCII (which an
 * sf-string cannot carry) become `?`.
 */
export function sfString(text: string): string {
  if (!NOT_STRING_SAFE.test(text)) return `"${text}"`;
  let out = '"';
  for (const c of text) {
    if (c === '"' || c === '\\') out += `\\${c}`;
    else {
      const code = c.charCodeAt(0);
      out += code >= 0x20 && code <= 0x7e && c.length === 1 ? c : '?';
    }
  }
  return `${out}"`;
}

/**
 * A warning as one list member: its code (a token; an sf-string when the code is not one), then its parameters; the
 * message only when its sf-string is at most `MESSAGE_MAX` long. Undefined when the member is longer than `max`.
 * Texts are measured before they are escaped: an sf-string is longer than the code points it holds, and a code point
 * is at most 2 UTF-16 units, so a text of over 2 * bound units cannot fit and is not escaped (a custom engine may
 * send a warning of any size).
 */
function member(w: CallWarning, withMessage: boolean, max: number): string | undefined {
  if (w.code.length > 2 * max || (w.field !== undefined && w.field.length > 2 * max)) return undefined;
  let out = TOKEN.test(w.code) ? w.code : sfString(w.code);
  if (w.field !== undefined) out += `;field=${sfString(w.field)}`;
  if (withMessage && w.message !== '' && w.message.length <= 2 * MESSAGE_MAX) {
    const message = sfString(w.message);
    if (message.length <= MESSAGE_MAX) out += `;message=${message}`;
  }
  return out.length > max ? undefined : out;
}

/**
 * The warnings as list members, in order, within `max` characters: a member longer than that on its own is left out
 * (the ones after it still go), and the list stops at the first member that does not fit. `omitted`: how many were
 * left out, both ways.
 */
function list(warnings: readonly CallWarning[], withMessage: boolean, max: number): { value: string; omitted: number } {
  let value = '';
  let omitted = 0;
  for (let i = 0; i < warnings.length; i++) {
    const m = member(warnings[i]!, withMessage, max);
    if (m === undefined) {
      omitted++;
      continue;
    }
    const next = value === '' ? m : `${value}, ${m}`;
    if (next.length > max) {
      omitted += warnings.length - i;
      break;
    }
    value = next;
  }
  return { value, omitted };
}

/** Room kept for the last member, `, truncated;omitted=N`. */
const MARKER_ROOM = 40;

/**
 * `x-llmrr-warnings`: the call's warnings as an RFC 8941 List of tokens with parameters, printable ASCII only, e.g.
 * `system_message_hoisted;field="messages.3";message="...", setting_not_sent;field="seed"`. A code is a token
 * (an sf-string when it is not one); `field` and, when short, `message` are sf-strings. At most `max` characters:
 * the messages go first; then a warning too long on its own is left out, and the list is cut from the end where it
 * does not fit, in order, with a last member `truncated;omitted=N` saying how many were left out. Undefined for no
 * warnings (no header).
 */
export function warningsHeader(warnings: readonly CallWarning[], max = WARNINGS_HEADER_MAX): string | undefined {
  if (warnings.length === 0) return undefined;
  const full = list(warnings, true, max);
  if (full.omitted === 0) return full.value;
  const bare = list(warnings, false, max);
  if (bare.omitted === 0) return bare.value;
  const cut = list(warnings, false, max - MARKER_ROOM);
  const marker = `truncated;omitted=${cut.omitted}`;
  return cut.value === '' ? marker : `${cut.value}, ${marker}`;
}
