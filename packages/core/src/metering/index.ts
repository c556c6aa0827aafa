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
export { normalizeUsageEntry } from './usage-input.js';
