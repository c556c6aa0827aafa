import { LLMError } from '@llmrr/core';

/** A time query parameter: epoch milliseconds or an ISO date; undefined when absent. */
export function parseTime(raw: string | undefined, param: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new LLMError({ code: 'invalid_request', message: `${param} must be epoch milliseconds or an ISO date, got "${raw}"`, param });
  return n;
}

/** `YYYY-MM` (a UTC month) or `YYYY-MM-DD` (a UTC day) as `[start, end)`. */
export function periodRange(period: string): { start: number; end: number } {
  const month = /^(\d{4})-(\d{2})$/.exec(period);
  if (month) {
    const y = Number(month[1]);
    const m = Number(month[2]) - 1;
    if (m >= 0 && m < 12) return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(period);
  if (day) {
    const start = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (Number.isFinite(start)) return { start, end: start + 86_400_000 };
  }
  throw new LLMError({ code: 'invalid_request', message: `period must be YYYY-MM or YYYY-MM-DD, got "${period}"`, param: 'period' });
}
