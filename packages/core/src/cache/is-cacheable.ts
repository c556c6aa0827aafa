import type { ExactCacheConfig } from '../config/schema.js';
import type { GenerateRequest } from '../spec/index.js';

/**
 * Whether a request's answer may be served from / stored in the exact cache.
 *
 * Sampling with temperature > 0 gives a different answer each time, so such calls are cached only when
 * `allowNonZeroTemperature` says so. A request without `temperature` is cacheable (the provider's default
 * applies, the same every time). This does not look at `enabled`: that switch belongs to the caller.
 */
export function isCacheable(request: GenerateRequest, config: Pick<ExactCacheConfig, 'allowNonZeroTemperature'>): boolean {
  const t = request.temperature;
  if (t == null) return true;
  return t <= 0 || config.allowNonZeroTemperature;
}
