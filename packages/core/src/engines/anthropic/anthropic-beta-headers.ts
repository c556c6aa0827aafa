/** The request headers of one call with `betas` added to `anthropic-beta` (a comma-separated list). */
export interface BetaHeaders {
  /** The model config's headers, without any `anthropic-beta` (its values moved into `call`). */
  config: Record<string, string>;
  /** The call's headers, with the one merged `anthropic-beta`. */
  call: Record<string, string>;
}

const BETA_HEADER = 'anthropic-beta';

/**
 * Adds `betas` to the `anthropic-beta` values already set by the model config and by the call (header names
 * in any case), keeping their order and dropping duplicates, so exactly one `anthropic-beta` header goes out.
 * The inputs are not modified.
 */
export function withAnthropicBetas(config: Record<string, string>, call: Record<string, string> | undefined, betas: readonly string[]): BetaHeaders {
  const values: string[] = [];
  const take = (headers: Record<string, string>): Record<string, string> => {
    const rest: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === BETA_HEADER) values.push(...String(value).split(','));
      else rest.push([name, value]);
    }
    // fromEntries defines own properties: a header named "__proto__" stays a header, not the object's prototype.
    return Object.fromEntries(rest);
  };
  const configRest = take(config);
  const callRest = take(call ?? {});
  values.push(...betas);
  const merged = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
  return { config: configRest, call: { ...callRest, [BETA_HEADER]: merged.join(',') } };
}
