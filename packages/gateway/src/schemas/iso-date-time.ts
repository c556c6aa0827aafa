import { z } from 'zod';

/**
 * An ISO 8601 date-time with `Z` or an offset (`2026-11-01T00:00:00Z`, `2026-11-01T01:00:00+01:00`): one instant
 * wherever the server runs (without an offset it would be read in the server's local time zone, so it is
 * refused). The admin API's one rule for a time as a string: a key's `expiresAt`, the queries' `from` and `to`.
 */
export const IsoDateTimeSchema = z.iso.datetime({ offset: true });
