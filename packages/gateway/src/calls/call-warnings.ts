import type { CallWarning } from '@llmrr/core';
import { warningsHeader } from '../http/warnings-header.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { withClientWarningPaths, type ClientMessagePaths } from '../schemas/client-message-paths.js';

/**
 * Shows a call's warnings to its client: `x-llmrr-warnings` in `headers` (the reply's, before they go out), naming
 * the client's messages (`paths`), and one count each in `llm_warnings_total`. Call it only when there are some:
 * answers without warnings do no work here. It never throws (a custom engine in plain JS may send anything as a
 * warning, and the call has answered by now): see `wellFormedWarnings`.
 */
export function showWarnings(warnings: readonly CallWarning[], paths: ClientMessagePaths | undefined, headers: Record<string, string>, metrics: GatewayMetrics | undefined): void {
  const shown = withClientWarningPaths(wellFormedWarnings(warnings), paths);
  const value = warningsHeader(shown);
  if (value !== undefined) headers['x-llmrr-warnings'] = value;
  metrics?.observeWarnings(shown);
}

function isWellFormed(w: unknown): w is CallWarning {
  if (typeof w !== 'object' || w === null) return false;
  const { code, field, message } = w as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string' && (field === undefined || typeof field === 'string');
}

/**
 * The warnings as `CallWarning`s, whatever an engine sent (the same array when all are well formed, the common case):
 * a `message` that is not a string becomes `''` (no `message` in the header) and a `field` that is not a string is
 * left out; entries that are not objects with a string `code` (nothing to name them by) become one last warning
 * `invalid_warning` saying how many there were. Not an array: none.
 */
export function wellFormedWarnings(warnings: unknown): readonly CallWarning[] {
  if (!Array.isArray(warnings)) return [];
  const list = warnings as unknown[];
  if (list.every(isWellFormed)) return list;
  const out: CallWarning[] = [];
  let invalid = 0;
  for (const w of list) {
    if (isWellFormed(w)) out.push(w);
    else if (typeof w === 'object' && w !== null && typeof (w as { code?: unknown }).code === 'string') {
      const { code, field, message } = w as Record<string, unknown>;
      out.push({ code: code as string, ...(typeof field === 'string' ? { field } : {}), message: typeof message === 'string' ? message : '' });
    } else invalid++;
  }
  if (invalid > 0) out.push({ code: 'invalid_warning', message: `The engine sent ${invalid} warning${invalid === 1 ? '' : 's'} that ${invalid === 1 ? 'is not an object' : 'are not objects'} with a string code.` });
  return out;
}
