export * from './schema.js';
export { formatPath, parseConfig, safeParseConfig } from './validate.js';
export type { ConfigIssue } from './validate.js';
export { CONFIG_ENV, CONFIG_FILE_NAMES, loadConfig, loadConfigDetailed } from './load.js';
export { expandHomePath } from './home-path.js';
export type { LoadConfigOptions, LoadedConfig } from './load.js';
export { CONFIG_JSON_SCHEMA_FILE, routerConfigJsonSchema, routerConfigJsonSchemaText } from './json-schema.js';
