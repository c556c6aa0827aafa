import { LLMError } from '@llmrr/core';
import { ISO_DATE_TIME_RULE, isoDateTimeMs } from '../schemas/iso-date-time.js';

/** The last instant a JavaScript Date can hold (epoch ms); later times fit no store column either. */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** `YYYY-MM` or `YYYY-MM-DD`. */
const PERIOD = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;

/**
 * A time query parameter (`from`, `to`); undefined when absent. Epoch milliseconds (digits only), a UTC month or
 * day (`YYYY-MM`, `YYYY-MM-DD`: its first instant, as `period` reads it), or an RFC 3339 date-time (`T` or a space) with
 * `Z` or an offset, seconds and fraction optional (the rule of a key's `expiresAt`, schemas/iso-date-time.ts). Anything else is a 400 naming the parameter: free text (which
 * `Date.parse` would read as some date) and a date-time without an offset (which it would read in the server's
 * local time zone, so two gateways in different zones would give different invoices).
 */
export function parseTime(raw: string | undefined, param: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = timeOf(raw);
  if (n === undefined || Number.isNaN(n)) {
    throw new LLMError({ code: 'invalid_request', message: `${param} must be epoch milliseconds, a UTC date (YYYY-MM or YYYY-MM-DD) or ${ISO_DATE_TIME_RULE}, got "${raw.slice(0, 100)}"`, param });
  }
  if (n > MAX_TIME_MS) throw new LLMError({ code: 'invalid_request', message: `${param} must be at most ${MAX_TIME_MS} (epoch milliseconds), got "${raw.slice(0, 100)}"`, param });
  return n;
}

/**
 * The `from` and `to` query parameters (`parseTime`); `to` before `from` is an impossible range (typed the wrong way
 * round, `from=2026-12&to=2026-11`): a 400 naming `to`, never an empty answer saying nothing was spent.
 */
export function parseRange(from: string | undefined, to: string | undefined): { from: number | undefined; to: number | undefined } {
  const range = { from: parseTime(from, 'from'), to: parseTime(to, 'to') };
  if (range.from !== undefined && range.to !== undefined && range.to < range.from) {
    throw new LLMError({ code: 'invalid_request', message: `to must not be before from (got from "${from!.slice(0, 100)}", to "${to!.slice(0, 100)}")`, param: 'to' });
  }
  return range;
}

/** Epoch ms of one of the three forms, or undefined when `raw` is none of them. */
function timeOf(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) return Number(raw);
  if (PERIOD.test(raw)) return utcPeriod(raw)?.start;
  return isoDateTimeMs(raw);
}

/** `YYYY-MM` (a UTC month) or `YYYY-MM-DD` (a UTC day) as `[start, end)`; an impossible date is a 400. */
export function periodRange(period: string): { start: number; end: number } {
  const range = utcPeriod(period);
  if (range) return range;
  throw new LLMError({ code: 'invalid_request', message: `period must be a real UTC month or day as YYYY-MM or YYYY-MM-DD, got "${period.slice(0, 100)}"`, param: 'period' });
}

/** `YYYY-MM` or `YYYY-MM-DD` as `[start, end)` in UTC, or undefined when it is not one or does not exist. */
function utcPeriod(period: string): { start: number; end: number } | undefined {
  const m = PERIOD.exec(period);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const start = utcDate(year, month, day);
  if (start === undefined) return undefined;
  if (m[3] !== undefined) return { start, end: start + 86_400_000 };
  const next = new Date(start);
  next.setUTCMonth(month + 1); // from day 1 of a month: the 1st of the next, across a year end too
  return { start, end: next.getTime() };
}

/** Epoch ms of that UTC day, or undefined when it does not exist (no roll-over: 02-30 is not 03-02). */
function utcDate(year: number, month: number, day: number): number | undefined {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as they are (not as 1900-1999).
  d.setUTCFullYear(year, month, day);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month && d.getUTCDate() === day ? d.getTime() : undefined;
}
