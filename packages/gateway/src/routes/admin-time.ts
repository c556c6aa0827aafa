import { LLMError } from '@llmrr/core';

/** The last instant a JavaScript Date can hold (epoch ms); later times fit no store column either. */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** A time query parameter: epoch milliseconds or an ISO date; undefined when absent. */
export function parseTime(raw: string | undefined, param: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new LLMError({ code: 'invalid_request', message: `${param} must be epoch milliseconds or an ISO date, got "${raw.slice(0, 100)}"`, param });
  if (n > MAX_TIME_MS) throw new LLMError({ code: 'invalid_request', message: `${param} must be at most ${MAX_TIME_MS} (epoch milliseconds), got "${raw.slice(0, 100)}"`, param });
  return n;
}

/** `YYYY-MM` (a UTC month) or `YYYY-MM-DD` (a UTC day) as `[start, end)`; an impossible date is a 400. */
export function periodRange(period: string): { start: number; end: number } {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(period);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]) - 1;
    const day = m[3] === undefined ? 1 : Number(m[3]);
    const start = utcDate(year, month, day);
    if (start !== undefined && m[3] !== undefined) return { start, end: start + 86_400_000 };
    if (start !== undefined) {
      const next = new Date(start);
      next.setUTCMonth(month + 1); // from day 1 of a month: the 1st of the next, across a year end too
      return { start, end: next.getTime() };
    }
  }
  throw new LLMError({ code: 'invalid_request', message: `period must be a real UTC month or day as YYYY-MM or YYYY-MM-DD, got "${period.slice(0, 100)}"`, param: 'period' });
}

/** Epoch ms of that UTC day, or undefined when it does not exist (no roll-over: 02-30 is not 03-02). */
function utcDate(year: number, month: number, day: number): number | undefined {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as they are (not as 1900-1999).
  d.setUTCFullYear(year, month, day);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month && d.getUTCDate() === day ? d.getTime() : undefined;
}
