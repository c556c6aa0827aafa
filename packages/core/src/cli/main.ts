#!/usr/bin/env node
import { run } from './run.js';

/** Exit code after a second Ctrl-C, or when a command does not stop within the grace period. */
const INTERRUPTED = 130;
const GRACE_MS = 3_000;

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(INTERRUPTED);
  interrupted = true;
  controller.abort(new DOMException('Interrupted by the user', 'AbortError'));
  setTimeout(() => process.exit(INTERRUPTED), GRACE_MS).unref();
});

// `pnpm llmrr` runs in the repository root; INIT_CWD is where the user typed it.
const cwd = process.env['npm_lifecycle_event'] === 'llmrr' && process.env['INIT_CWD'] ? process.env['INIT_CWD'] : process.cwd();

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd,
  signal: controller.signal,
});
// Exit explicitly once stdout is flushed: a loaded local model or a pool may still hold the event loop.
process.stdout.write('', () => process.exit(code));
