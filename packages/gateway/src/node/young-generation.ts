/**
 * The young generation (V8's new space: two semi-spaces) the gateway server runs with, MB per semi-space.
 * V8's default on 64-bit is 16 on hosts with more than about 4 GB of memory (a V8 heap limit above about 1.1 GB);
 * there, at 8, the gateway's resident set under load is about 15 MB lower (c=64: 131-136 -> 117-123 MB median)
 * for about 3-4% more CPU per request (more scavenges; docs/benchmarks.md, "Memory"). V8's default shrinks with
 * the heap limit, which node takes from the host's or container's memory: at a heap limit of about 1 GB it is
 * already 8 and at 512 MB 4, so on such small hosts the flag saves nothing or enlarges the young generation
 * (the server warns at startup; start node without the flag there).
 */
export const GATEWAY_SEMI_SPACE_MB = 8;

/**
 * The node flags the gateway server starts with (its `start` and `serve` scripts pass them; so do the
 * benchmarks that measure it). V8 sizes the young generation once, when the process starts:
 * `v8.setFlagsFromString('--max-semi-space-size=…')` later has no effect, so this cannot be a runtime setting
 * like `tuneHeapForGateway`. To change it, start node with another `--max-semi-space-size` (command line or
 * `NODE_OPTIONS`).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`];

const SEMI_SPACE_FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/;

/**
 * The `--max-semi-space-size` (MB) this process was started with, from `NODE_OPTIONS` and then the command
 * line (the later one wins, as in node); undefined when neither sets it (V8's default).
 */
export function semiSpaceSizeMb(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): number | undefined {
  let found: number | undefined;
  for (const args of [nodeOptions.split(/\s+/).filter(Boolean), execArgv]) {
    for (let i = 0; i < args.length; i++) {
      const m = SEMI_SPACE_FLAG.exec(args[i]!);
      if (!m) continue;
      const value = Number(m[1] ?? args[++i]);
      if (Number.isFinite(value) && value > 0) found = value;
    }
  }
  return found;
}
