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

/** A warning as one list member: its code (a token; an sf-string when the code is not one), then its parameters. */
function member(w: CallWarning, withMessage: boolean): string {
  let out = TOKEN.test(w.code) ? w.code : sfString(w.code);
  if (w.field !== undefined) out += `;field=${sfString(w.field)}`;
  if (withMessage) {
    const message = sfString(w.message);
    if (message.length <= MESSAGE_MAX) out += `;message=${message}`;
  }
  return out;
}

function list(warnings: readonly CallWarning[], withMessage: boolean, max: number): { value: string; kept: number } {
  let value = '';
  let kept = 0;
  for (const w of warnings) {
    const m = member(w, withMessage);
    const next = value === '' ? m : `${value}, ${m}`;
    if (next.length > max) break;
    value = next;
    kept++;
  }
  return { value, kept };
}

/**
 * `x-llmrr-warnings`: the call's warnings as an RFC 8941 List of tokens with parameters, printable ASCII only, e.g.
 * `system_message_hoisted;field="messages.3";message="...", setting_not_sent;field="seed"`. A code is a token
 * (an sf-string when it is not one); `field` and, when short, `message` are sf-strings. At most `max` characters:
 * the messages go first, then warnings from the end, and a last member `truncated;omitted=N` says how many were
 * left out. Undefined for no warnings (no header).
 */
export function warningsHeader(warnings: readonly CallWarning[], max = WARNINGS_HEADER_MAX): string | undefined {
  if (warnings.length === 0) return undefined;
  const full = list(warnings, true, max);
  if (full.kept === warnings.length) return full.value;
  const bare = list(warnings, false, max);
  if (bare.kept === warnings.length) return bare.value;
  // Room for the last member, `, truncated;omitted=N`.
  const cut = list(warnings, false, max - 40);
  const marker = `truncated;omitted=${warnings.length - cut.kept}`;
  return cut.value === '' ? marker : `${cut.value}, ${marker}`;
}
