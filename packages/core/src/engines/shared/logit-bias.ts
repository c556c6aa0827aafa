import type { CallWarning } from '../../spec/warnings.js';

/** A `logitBias` that asks for something: one entry at least (an empty map biases no token). */
export function asksLogitBias(bias: Readonly<Record<string, number>> | undefined): boolean {
  if (typeof bias !== 'object' || bias === null) return false;
  for (const _ in bias) return true;
  return false;
}

/**
 * The warning of an engine that does not send `logitBias` (`provider`: who has no such field). Only the
 * OpenAI-compatible engine sends it: the token ids are its deployments' tokenizer's.
 */
export function logitBiasNotSent(provider: string): CallWarning {
  return { code: 'setting_not_sent', field: 'logitBias', message: `logitBias was not sent: ${provider} has no token logit bias.` };
}
