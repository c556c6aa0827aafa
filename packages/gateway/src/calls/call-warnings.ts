import type { CallWarning } from '@llmrr/core';
import { warningsHeader } from '../http/warnings-header.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { withClientWarningPaths, type ClientMessagePaths } from '../schemas/client-message-paths.js';

/**
 * Shows a call's warnings to its client: `x-llmrr-warnings` in `headers` (the reply's, before they go out), naming
 * the client's messages (`paths`), and one count each in `llm_warnings_total`. Call it only when there are some:
 * answers without warnings do no work here.
 */
export function showWarnings(warnings: readonly CallWarning[], paths: ClientMessagePaths | undefined, headers: Record<string, string>, metrics: GatewayMetrics | undefined): void {
  const shown = withClientWarningPaths(warnings, paths);
  const value = warningsHeader(shown);
  if (value !== undefined) headers['x-llmrr-warnings'] = value;
  metrics?.observeWarnings(shown);
}
