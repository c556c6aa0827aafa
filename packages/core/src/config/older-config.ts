/**
 * Top-level keys of the original `llm-runner-router` (v1) config that v2 spells otherwise or has no place for
 * (`@llmrr/migrate` converts them; its own list is longer and also reads generic keys such as `timeout`).
 */
const V1_KEYS = [
  'strategy',
  'routingStrategy',
  'fallbackModels',
  'fallbackEnabled',
  'enableFallback',
  'cacheTTL',
  'enableCaching',
  'cacheSize',
  'maxRetries',
  'retryDelay',
  'modelRegistry',
  'preferredEngine',
  'fallbackEngine',
  'maxModels',
  'autoInit',
  'apiPort',
  'enableQuantization',
  'sandboxExecution',
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What makes a config that failed validation look like an older (v1) router config: a v1 `version`, models given by
 * name or by `id`, v1 keys. Empty when nothing does (a v2 config with a mistake of its own), and for a config that
 * says it is v3: llmrr-migrate takes it as v3 (it converts no v1 key or model there, and refuses to turn it into v2),
 * so those are mistakes of its own too. (A v2 config with v1 keys or models is one llmrr-migrate converts.)
 */
export function olderConfigSigns(data: Record<string, unknown>): string[] {
  const signs: string[] = [];
  const { version, models } = data;
  if (version === 3 || version === '3') return signs;
  if (version !== undefined && /^v?1(\.\d+)*$/i.test(String(version))) signs.push(`version ${JSON.stringify(version)}`);
  if (Array.isArray(models) && models.some((m) => typeof m === 'string')) signs.push('models given by name');
  else if (Array.isArray(models) && models.some((m) => isObject(m) && m.name === undefined && m.id !== undefined)) signs.push('models named by "id"');
  const keys = V1_KEYS.filter((k) => Object.hasOwn(data, k));
  if (keys.length) signs.push(`v1 key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`);
  return signs;
}

/** The advice a config error ends with when the config looks older: convert it with `llmrr-migrate`. */
export function olderConfigAdvice(data: Record<string, unknown>, file: string | undefined): string | undefined {
  const signs = olderConfigSigns(data);
  if (!signs.length) return undefined;
  const how = file ? `llmrr-migrate --write ${file}` : 'migrate() from @llmrr/migrate, or save it to a file and run llmrr-migrate --write on it';
  return `This looks like an older (v1) router config (${signs.join('; ')}): convert it with llmrr-migrate (@llmrr/migrate): ${how}`;
}
