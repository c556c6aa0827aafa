import type { CallWarning } from '@llmrr/core';
import { warningsHeader } from '../http/warnings-header.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ClientFieldNames } from '../schemas/client-field-names.js';
import { withClientWarningPaths, type ClientMessagePaths } from '../schemas/client-message-paths.js';

/**
 * Shows a call's warnings to its client: `x-llmrr-warnings` in `headers` (the reply's, before they go out), naming
 * the client's messages (`paths`) and fields (`names`), and one count each in `llm_warnings_total`. Call it only when there are some:
 * answers without warnings do no work here. It never throws (a custom engine in plain JS may send anything as a
 * warning, and the call has answered by now): see `wellFormedWarnings`. `gateway`: the gateway's own warnings (the
 * body's fields it does not act on, `ignoredFieldsOf`), shown first, as they are.
 */
export function showWarnings(
  warnings: readonly CallWarning[] | undefined,
  paths: ClientMessagePaths | undefined,
  headers: Record<string, string>,
  metrics: GatewayMetrics | undefined,
  gateway?: readonly CallWarning[],
  names?: ClientFieldNames,
): void {
  const engine = withClientWarningPaths(wellFormedWarnings(warnings), paths, names);
  // The gateway's own first (the client's top-level fields it did not act on, in body order: no paths to map).
  const shown = gateway === undefined ? engine : engine.length === 0 ? gateway : [...gateway, ...engine];
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
 * The most entries of an engine's warnings list looked at: a plain-JS engine may send an array of any `length` (a
 * sparse one of 2**32 - 1 has no entries to speak of but as many indexes), and the work here stays bounded (a few
 * microseconds). Far more than a useful list holds, and than the header shows of warnings with a field (each takes
 * at least 12 of its `WARNINGS_HEADER_MAX` characters), so below it every warning is still counted in the metric.
 */
export const WARNINGS_LOOKED_AT_MAX = 1024;

/** Every entry well formed, holes included (a hole is none: `Array.prototype.every` skips them); a list too long to look at whole is not. */
function allWellFormed(list: readonly unknown[]): boolean {
  if (list.length > WARNINGS_LOOKED_AT_MAX) return false;
  for (let i = 0; i < list.length; i++) if (!isWellFormed(list[i])) return false;
  return true;
}

/**
 * The warnings as `CallWarning`s, whatever an engine sent (the same array when all are well formed, the common case):
 * a `message` that is not a string becomes `''` (no `message` in the header) and a `field` that is not a string is
 * left out; entries that are not objects with a string `code` (nothing to name them by) become one last warning
 * `invalid_warning` saying how many there were. Only the first `WARNINGS_LOOKED_AT_MAX` entries are looked at: the
 * others (holes or not) are one last warning `warnings_omitted` saying how many. Not an array: none.
 */
export function wellFormedWarnings(warnings: unknown): readonly CallWarning[] {
  if (!Array.isArray(warnings)) return [];
  const list = warnings as unknown[];
  if (allWellFormed(list)) return list as CallWarning[];
  const out: CallWarning[] = [];
  let invalid = 0;
  const looked = Math.min(list.length, WARNINGS_LOOKED_AT_MAX);
  // An index loop: a hole in a sparse array (which `every` and `forEach` skip) is an entry that is not an object.
  for (let i = 0; i < looked; i++) {
    const w = list[i];
    if (isWellFormed(w)) out.push(w);
    else if (typeof w === 'object' && w !== null && typeof (w as { code?: unknown }).code === 'string') {
      const { code, field, message } = w as Record<string, unknown>;
      out.push({ code: code as string, ...(typeof field === 'string' ? { field } : {}), message: typeof message === 'string' ? message : '' });
    } else invalid++;
  }
  if (invalid > 0) out.push({ code: 'invalid_warning', message: `The engine sent ${invalid} warning${invalid === 1 ? '' : 's'} that ${invalid === 1 ? 'is not an object' : 'are not objects'} with a string code.` });
  const omitted = list.length - looked;
  if (omitted > 0) {
    out.push({
      code: 'warnings_omitted',
      message: `The engine sent a list of ${list.length} warnings; the first ${looked} were looked at and the other ${omitted} left out.`,
    });
  }
  return out;
}
