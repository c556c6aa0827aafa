export * from './schema.js';
export { formatPath, parseConfig, safeParseConfig } from './validate.js';
export type { ConfigIssue } from './validate.js';
