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
 * offset is counted by `statusPageAtOffset`.
 */
export function checkStatusFiltered(rows: readonly UsageEntry[], status: UsageStatus | undefined): void {
  if (status !== undefined && rows.some((r) => r.status !== status)) throw statusUnsupported();
}

/**
 * The page at `q.offset` of a listing filtered by `status`, counted here: a ledger that ignores `status` counts its
 * `offset` over rows of every status, so its page there can hold that status's rows alone and still be the wrong page
 * (a row of an earlier page again, or one past the last of its status). The rows are read from the top (or from
 * `q.before`) in chunks of `chunk` rows (the largest page the gateway asks of any ledger), each checked as
 * `checkStatusFiltered` checks a page (a row of another status: the 501), the cursor `before` (which every ledger
 * takes) set to each chunk's last row; `offset` of them are skipped and the next `limit` kept. Memory holds one chunk
 * whatever the offset; the cost grows with it, as a database's OFFSET does (`beforeId` pages cost one page each).
 */
export async function statusPageAtOffset(ledger: Pick<UsageLedger, 'query'>, q: UsageQuery & { status: UsageStatus }, chunk: number): Promise<UsageEntry[]> {
  const { offset: _offset, limit: _limit, beforeId: _beforeId, ...filters } = q;
  let skip = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const page: UsageEntry[] = [];
  let before = q.before;
  for (;;) {
    const rows = await ledger.query({ ...filters, offset: 0, limit: chunk, ...(before ? { before } : {}) });
    checkStatusFiltered(rows, q.status);
    if (skip >= rows.length) skip -= rows.length;
    else {
      page.push(...rows.slice(skip, skip + limit - page.length));
      skip = 0;
    }
    if (page.length >= limit || rows.length < chunk) return page;
    const last = rows.at(-1)!;
    before = { createdAt: last.createdAt, requestId: last.requestId };
  }
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
