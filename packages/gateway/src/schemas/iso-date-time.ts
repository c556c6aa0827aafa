import { z } from 'zod';

/**
 * An RFC 3339 date-time with `Z` or an offset, with ISO 8601's extended-form liberties: `T`, `t` or a space
 * (RFC 3339 5.6's note; `date --rfc-3339=seconds` and PostgreSQL's `timestamptz` print it) between date and time,
 * minutes with or without seconds, a fraction of any length after `.` or `,`, and an offset `Z`, `+01:00`, `+0100`
 * or `+01`.
 * Hours 00-23, minutes 00-59, seconds 00-60 (a leap second reads as the minute's last millisecond), offsets up to
 * 23:59, and a day the month has.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** What a date-time must be, for error messages. */
export const ISO_DATE_TIME_RULE = 'an RFC 3339 date-time (T or a space before the time) with Z or an offset (2026-11-01T00:00:00Z, 2026-11-01 01:00+01:00)';

/**
 * Epoch ms of an RFC 3339 date-time with `Z` or an offset (the extended form above; ISO 8601's basic form
 * `20261101T000000Z` and hour-only `2026-11-01T00Z` are refused), or undefined when `raw` is not one (a date-time
 * without an offset would be read in the server's local time zone, so it is refused). Read by hand, not by
 * `Date.parse`, whose legacy parser takes free text and whose ISO parser refuses `+01` and lower case.
 */
export function isoDateTimeMs(raw: string): number | undefined {
  const m = DATE_TIME.exec(raw);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as they are; no roll-over: 02-30 is not 03-02.
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = second === 60 ? 999 : m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  return d.getTime() + ((hour * 60 + minute - offsetMin) * 60 + Math.min(second, 59)) * 1000 + ms;
}

/**
 * An RFC 3339 date-time with `Z` or an offset (`2026-11-01T00:00:00Z`, `2026-11-01 00:00:00+00`,
 * `2026-11-01T01:00+01:00`, `2026-11-01T01:00:00.5+0100`): one instant wherever the server runs. The admin API's
 * one rule for a time as a string: a key's `expiresAt`, the queries' `from` and `to`. Stays a string; `isoDateTimeMs` reads it.
 */
export const IsoDateTimeSchema = z
  .string()
  .refine((s) => isoDateTimeMs(s) !== undefined, { message: `must be epoch milliseconds or ${ISO_DATE_TIME_RULE}` })
  .meta({ format: 'date-time' });
