import type { BudgetPeriod } from './types.js';

export interface PeriodWindow {
  /** `2026-05-20` (day), `2026-W21` (ISO week), `2026-05` (month), `total`. */
  key: string;
  start: number;
  /** Exclusive; Infinity for `total`. */
  end: number;
}

const DAY_MS = 86_400_000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The UTC calendar period containing `now`. Weeks are ISO weeks (Monday start, ISO week-year). */
export function budgetPeriodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (period) {
    case 'day': {
      const start = Date.UTC(y, m, d.getUTCDate());
      return { key: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}`, start, end: start + DAY_MS };
    }
    case 'week': {
      const dayStart = Date.UTC(y, m, d.getUTCDate());
      const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
      const start = dayStart - weekday * DAY_MS;
      // ISO week-year: the year of the week's Thursday.
      const thursday = new Date(start + 3 * DAY_MS);
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS)) + 1;
      return { key: `${isoYear}-W${pad(week)}`, start, end: start + 7 * DAY_MS };
    }
    case 'month': {
      const start = Date.UTC(y, m, 1);
      return { key: `${y}-${pad(m + 1)}`, start, end: Date.UTC(y, m + 1, 1) };
    }
    case 'total':
      return { key: 'total', start: 0, end: Number.POSITIVE_INFINITY };
  }
}
