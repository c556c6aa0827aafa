export type {
  Invoice,
  InvoiceLine,
  UsageEntry,
  UsageEntryInput,
  UsageGroupBy,
  UsageLedger,
  UsageQuery,
  UsageStatus,
  UsageSummary,
  UsageTotals,
} from './types.js';
export { USAGE_STATUSES, normalizeUsageEntry } from './usage-input.js';
