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
 * it existed). Checking the page is enough for a client paging by `beforeId` (a page of the right status only is
 * the right page: the newest rows before the cursor) or by `offset` from 0 (each page the right one until the first
 * that holds another status's row, which is refused), with no extra query.
 */
export function checkStatusFiltered(rows: readonly UsageEntry[], status: UsageStatus | undefined): void {
  if (status !== undefined && rows.some((r) => r.status !== status)) throw statusUnsupported();
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
