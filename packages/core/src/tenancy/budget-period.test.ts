import { describe, expect, it } from 'vitest';
import { budgetPeriodWindow } from './budget-period.js';

describe('budgetPeriodWindow (UTC)', () => {
  const at = Date.UTC(2026, 4, 20, 23, 59, 59); // Wednesday 2026-05-20

  it('day, month and total', () => {
    expect(budgetPeriodWindow('day', at)).toEqual({ key: '2026-05-20', start: Date.UTC(2026, 4, 20), end: Date.UTC(2026, 4, 21) });
    expect(budgetPeriodWindow('month', at)).toEqual({ key: '2026-05', start: Date.UTC(2026, 4, 1), end: Date.UTC(2026, 5, 1) });
    expect(budgetPeriodWindow('month', Date.UTC(2026, 11, 31, 12))).toMatchObject({ key: '2026-12', end: Date.UTC(2027, 0, 1) });
    expect(budgetPeriodWindow('total', at)).toEqual({ key: 'total', start: 0, end: Number.POSITIVE_INFINITY });
  });

  it('ISO weeks start on Monday and belong to the year of their Thursday', () => {
    expect(budgetPeriodWindow('week', at)).toEqual({ key: '2026-W21', start: Date.UTC(2026, 4, 18), end: Date.UTC(2026, 4, 25) });
    // Sunday belongs to the week that started the Monday before.
    expect(budgetPeriodWindow('week', Date.UTC(2026, 4, 24, 12)).key).toBe('2026-W21');
    // 2027-01-01 is a Friday: ISO week 53 of 2026.
    expect(budgetPeriodWindow('week', Date.UTC(2027, 0, 1)).key).toBe('2026-W53');
    // 2024-12-30 is a Monday: ISO week 1 of 2025.
    expect(budgetPeriodWindow('week', Date.UTC(2024, 11, 31)).key).toBe('2025-W01');
  });
});
