import { LLMError, type UsageEntry, type UsageLedger, type UsageQuery, type UsageStatus, type UsageSummary } from '@llmrr/core';

/**
 * What `/admin/usage` and `/admin/usage/entries` ask of the server's `UsageLedger` beyond its interface's oldest
 * part, so that a ledger of the caller's own (`GatewayOptions.stores.ledger`) written before `UsageQuery.beforeId`
 * and `UsageQuery.status` existed answers right or not at all, never with wrong rows.
 */

/** The filters of a usage listing a cursor row must match (`usageQuery`'s). */
type ListingFilters = Pick<UsageQuery, 'tenantId' | 'keyId' | 'model' | 'status' | 'from' | 'to'>;

/**
 * The `before` cursor of `beforeId` (a page's last row), resolved here rather than by the ledger (`UsageQuery.beforeId`
 * is optional for a ledger to know; every ledger pages by `before`): the row read by `get`, and taken only when the
 * listing holds it (its filters match it, `from` inclusive, `to` exclusive). A row outside the filters (another
 * tenant's, model's, status's, time range's) is refused with the same 400 as a row that does not exist, in the same
 * words as core's stores, so the answer tells nothing of rows outside the filters.
 */
export async function beforeCursor(ledger: Pick<UsageLedger, 'get'>, beforeId: string, q: ListingFilters): Promise<{ createdAt: number; requestId: string }> {
  const row = await ledger.get(beforeId);
  if (!row || !listingHolds(row, q)) {
    throw new LLMError({
      code: 'invalid_request',
      message: `beforeId must be the request id of a usage record this listing holds (the last of the page before, with the same filters), got "${beforeId.slice(0, 100)}"`,
      param: 'beforeId',
    });
  }
  return { createdAt: row.createdAt, requestId: row.requestId };
}

function listingHolds(row: UsageEntry, q: ListingFilters): boolean {
  return (
    (q.tenantId === undefined || row.tenantId === q.tenantId) &&
    (q.keyId === undefined || row.keyId === q.keyId) &&
    (q.model === undefined || row.model === q.model) &&
    (q.status === undefined || row.status === q.status) &&
    (q.from === undefined || row.createdAt >= q.from) &&
    (q.to === undefined || row.createdAt < q.to)
  );
}

/**
 * A page asked for with `status`: a row of another status means the ledger ignores the filter (one written before
 * it existed). Checking the page is enough for a page at offset 0 (from the top or from a `beforeId` cursor: a page of
 * the right status only is the right page, the newest rows before the cursor), with no extra query; a page at another
 * offset is counted by `statusPageAtOffset` (for a ledger that does not filter by status itself: `usagePage`).
 */
export function checkStatusFiltered(rows: readonly UsageEntry[], status: UsageStatus | undefined): void {
  if (status !== undefined && rows.some((r) => r.status !== status)) throw statusUnsupported();
}

/**
 * The most rows of one status `usagePage` skips for a ledger that does not filter by `status` itself: past it, an
 * `offset` is a 400 (page by `beforeId`, one page's cost each), so one request never reads the whole ledger.
 */
export const MAX_COUNTED_OFFSET = 10_000;

/**
 * The page `q` asks of the ledger (`/admin/usage/entries`). Asked directly when it has no `status`, at offset 0 (the
 * page is checked: `checkStatusFiltered`), or when the ledger says it filters by `status` itself
 * (`UsageLedger.filtersStatus`: every ledger of core's), so its database counts the offset. Else (a ledger of the
 * caller's own) the page past offset 0 is counted here by `statusPageAtOffset`, an `offset` above
 * `MAX_COUNTED_OFFSET` refused first (a 400 naming `offset`).
 */
export async function usagePage(ledger: Pick<UsageLedger, 'query' | 'filtersStatus'>, q: UsageQuery, chunk: number): Promise<UsageEntry[]> {
  const status = q.status;
  const rows = status === undefined || !q.offset || ledger.filtersStatus === true ? await ledger.query(q) : await statusPageAtOffset(ledger, { ...q, status }, chunk);
  checkStatusFiltered(rows, status);
  return rows;
}

/**
 * The page at `q.offset` of a listing filtered by `status`, counted here: a ledger that ignores `status` counts its
 * `offset` over rows of every status, so its page there can hold that status's rows alone and still be the wrong page
 * (a row of an earlier page again, or one past the last of its status). The rows are read from the top (or from
 * `q.before`) in chunks of `chunk` rows (the largest page the gateway asks of any ledger), each checked as
 * `checkStatusFiltered` checks a page (a row of another status: the 501), the cursor `before` set to each chunk's last
 * row (a chunk whose first row is not after it is from a ledger that ignores `before`: a 501 too, never a row twice); `offset` of them are skipped and the next `limit` kept. Only an empty chunk ends
 * the listing (a ledger may answer fewer rows than asked, as one that caps its answers does). Memory holds one chunk
 * whatever the offset; the cost grows with it, so an offset above `MAX_COUNTED_OFFSET` is a 400 naming `offset`
 * (page by `beforeId`), and the event loop gets a turn between chunks (a synchronous driver's query blocks it).
 */
export async function statusPageAtOffset(ledger: Pick<UsageLedger, 'query'>, q: UsageQuery & { status: UsageStatus }, chunk: number): Promise<UsageEntry[]> {
  const { offset: _offset, limit: _limit, beforeId: _beforeId, ...filters } = q;
  let skip = q.offset ?? 0;
  if (skip > MAX_COUNTED_OFFSET) {
    throw new LLMError({
      code: 'invalid_request',
      message: `offset must be at most ${MAX_COUNTED_OFFSET} with status on this server (its usage ledger does not say it filters by status (UsageLedger.filtersStatus), so the gateway counts the rows before the page itself), got ${skip}: page by beforeId (the requestId of the last row of the page before) instead`,
      param: 'offset',
    });
  }
  const limit = q.limit ?? 100;
  const page: UsageEntry[] = [];
  let before = q.before;
  for (let first = true; ; first = false) {
    if (!first) await nextTurn();
    const rows = await ledger.query({ ...filters, offset: 0, limit: chunk, ...(before ? { before } : {}) });
    checkStatusFiltered(rows, q.status);
    if (rows.length === 0) return page;
    if (before && !listedBefore(rows[0]!, before)) throw beforeUnsupported();
    if (skip >= rows.length) skip -= rows.length;
    else {
      page.push(...rows.slice(skip, skip + limit - page.length));
      skip = 0;
    }
    if (page.length >= limit) return page;
    const last = rows.at(-1)!;
    before = { createdAt: last.createdAt, requestId: last.requestId };
  }
}

/**
 * `row` lists after the cursor `before` (is older: `createdAt` smaller, or equal with a smaller `requestId` in byte
 * order, as core's ledgers sort). A chunk asked for with `before` whose first row does not is from a ledger that
 * ignores `before`: walking on would read the same rows again.
 */
function listedBefore(row: UsageEntry, before: { createdAt: number; requestId: string }): boolean {
  return row.createdAt < before.createdAt || (row.createdAt === before.createdAt && bytesBelow(row.requestId, before.requestId));
}

const utf8 = new TextEncoder();

/** `a` sorts before `b` in UTF-8 byte order (SQLite's BINARY, PostgreSQL's `COLLATE "C"`; not JS's UTF-16 `<`). */
function bytesBelow(a: string, b: string): boolean {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return x.length < y.length;
}

/** Resolves after pending I/O and timers had a turn (`setImmediate` where the runtime has one, else a 0 ms timer). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * A summary asked for with `status`: its totals must be of that status only (`requests` all `errors` for `error`, all
 * `aborted` for `aborted`, neither for `success`); a ledger that ignores the filter, or does not count `aborted`
 * apart (a number, as `UsageTotals.aborted` says), is refused rather than answered with other statuses' calls.
 */
export function checkSummaryStatus(summary: UsageSummary, status: UsageStatus | undefined): void {
  if (status === undefined) return;
  const { requests, errors, aborted } = summary;
  const consistent =
    typeof aborted === 'number' &&
    (status === 'error' ? errors === requests && aborted === 0 : status === 'aborted' ? aborted === requests && errors === 0 : errors === 0 && aborted === 0);
  if (!consistent) throw statusUnsupported();
}

/**
 * The 501 of a ledger that answers a `before` cursor with rows at or above it (a UsageLedger that ignores `before`):
 * the gateway cannot count the rows before a page of one status over it, so that page is refused, never answered with
 * rows twice.
 */
function beforeUnsupported(): LLMError {
  return new LLMError({
    code: 'unsupported',
    statusCode: 501,
    isRetryable: false,
    message:
      "This server's usage ledger does not take before (its answer to a before cursor held rows at or above the cursor), so a page of one status past offset 0 cannot be counted: leave status out and filter the entries by their status, page by beforeId from offset 0, or update the ledger",
    param: 'status',
  });
}

/**
 * A 501 (`unsupported`, naming `status`, not retried): the server's ledger cannot do what the request asks. Not a 400:
 * the request is right, another server answers it; not a hidden 500: the admin learns which parameter to leave out.
 */
function statusUnsupported(): LLMError {
  return new LLMError({
    code: 'unsupported',
    statusCode: 501,
    isRetryable: false,
    message:
      "This server's usage ledger does not filter by status (a UsageLedger written before UsageQuery.status; its answer held calls of other statuses): leave status out and filter the entries by their status, or update the ledger",
    param: 'status',
  });
}
