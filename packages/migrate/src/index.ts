export * from './library/index.js';
export { transformSource } from './codemod/transform-source.js';
export { transformFile } from './codemod/transform-file.js';
export type { FileTransformOptions, FileTransformResult, SkipReport } from './codemod/types.js';
export { runCli } from './cli/run-cli.js';
export type { CliIO } from './cli/run-cli.js';
