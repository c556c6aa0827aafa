import { LLMError } from '@llmrr/core';
import { GATEWAY_NODE_FLAGS, mallocSummary, nodeMemoryBytes, semiSpaceSizeMb, tuneHeapForGateway, youngGenerationWarning } from '@llmrr/gateway/node';
import { getHeapStatistics } from 'node:v8';
import { demoExposureWarning, readSettings } from './settings.js';
import { startServer, type RunningServer } from './start-server.js';

async function main(): Promise<void> {
  // With a price file, SIGHUP reads it again (`kill -HUP <pid>` after editing it); a file that does not load is
  // reported and the prices in use stay. Installed before the server starts, where SIGHUP's default would end the
  // process: one during startup is logged and the file read again once the server has started. Without a price
  // file, SIGHUP keeps its default (a terminal hangup ends the server).
  const pricesFile = process.env.LLMRR_PRICES_FILE?.trim();
  let running: RunningServer | undefined;
  let reloadWhenStarted = false;
  const reloadPrices = (server: RunningServer): void => {
    server.router.reloadPrices().then(
      () => console.log(`SIGHUP: prices reloaded from ${pricesFile} (LLMRR_PRICES_FILE)`),
      (e: unknown) => console.error(`SIGHUP: prices not reloaded (the current ones stay): ${LLMError.isInstance(e) ? e.message : String(e)}`),
    );
  };
  if (pricesFile) {
    process.on('SIGHUP', () => {
      if (running) return reloadPrices(running);
      if (!reloadWhenStarted) console.log('SIGHUP during startup: the price file is read again once the server has started');
      reloadWhenStarted = true;
    });
  }
  const settings = readSettings();
  // Before any load: a gateway's per-request objects outlive young-generation GCs; collect them sooner.
  const heapGrowing = tuneHeapForGateway(settings.heapGrowingPercent);
  // The young generation is sized by node's command line only (the start and serve scripts pass GATEWAY_NODE_FLAGS).
  const semiSpace = semiSpaceSizeMb();
  const server = await startServer(settings);
  running = server;
  const models = server.router.models().filter((m) => m.enabled).map((m) => `${m.name} (${m.engine})`).join(', ');
  console.log(`llmrr gateway listening on ${server.url}`);
  console.log(`  config: ${server.configSource}; models: ${models}`);
  const exactCache = server.router.routerConfig.cache.exact.enabled;
  const affinity = server.router.routerConfig.routing.promptCacheAffinity.enabled;
  console.log(
    `  state: ${settings.state}${settings.state === 'embedded' ? ` (${settings.dataDir})` : ''}; exact cache: ${exactCache ? (server.stores.cache ? 'on (Redis, shared)' : 'on (in memory)') : 'off'}; prompt-cache affinity: ${affinity ? (server.stores.affinity ? 'on (Redis, shared)' : 'on (in process)') : 'off'}`,
  );
  console.log(
    `  heap: young generation ${semiSpace ? `${semiSpace} MB semi-spaces` : `V8's default (start node with ${GATEWAY_NODE_FLAGS.join(' ')} for less memory, as pnpm start does)`}; old generation grows ${heapGrowing > 0 ? `${heapGrowing}%` : "as node's flags or V8's default say"} over the live heap`,
  );
  // glibc's threshold as glibc reads it (hex, GLIBC_TUNABLES...); under musl the setting does nothing, and says so.
  console.log(`  malloc: ${mallocSummary()}`);
  // V8's own young generation is smaller on small hosts; there the flag would enlarge it.
  const warning = youngGenerationWarning({ semiSpaceMb: semiSpace, heapLimitBytes: getHeapStatistics().heap_size_limit, memoryBytes: nodeMemoryBytes() });
  if (warning) console.log(`  warning: ${warning}`);
  if (settings.corsOrigins) console.log(`  CORS for /v1 and /api: ${settings.corsOrigins === '*' ? 'any origin' : settings.corsOrigins.join(', ')}`);
  if (settings.demo) console.log('  DEMO MODE: requests without an API key act as tenant "demo" (LLMRR_DEMO=false to require keys)');
  const exposed = demoExposureWarning(settings);
  if (exposed) console.log(`  warning: ${exposed}`);
  console.log(`  admin API: ${settings.adminKey ? 'on (LLMRR_ADMIN_KEY)' : 'off (set LLMRR_ADMIN_KEY to enable)'}`);
  console.log(`  try: curl ${server.url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"mock","messages":[{"role":"user","content":"hello"}]}'`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C exits at once. A repeated SIGTERM does not: sent to the process group (systemd's default
      // KillMode=control-group, `kill -- -PGID`) it reaches the server twice, directly and forwarded by pnpm, and
      // the grace bounds the shutdown anyway.
      if (signal !== 'SIGINT') return;
      console.log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    const delay = settings.shutdownDelayMs > 0 ? `not ready, still serving for ${settings.shutdownDelayMs} ms (LLMRR_SHUTDOWN_DELAY_MS), then ` : '';
    console.log(`${signal}: ${delay}finishing requests in flight (up to ${settings.shutdownGraceMs} ms, LLMRR_SHUTDOWN_GRACE_MS), then stopping`);
    server.close(settings.shutdownGraceMs).then(
      () => process.exit(0),
      (e: unknown) => {
        console.error('shutdown failed:', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (reloadWhenStarted) reloadPrices(server);
}

main().catch((e: unknown) => {
  // A setting's error (an LLMError, naming the variable) is its message; anything else is a fault: its stack.
  const msg = LLMError.isInstance(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
  console.error(`llmrr gateway failed to start: ${msg}`);
  process.exit(1);
});
