import { totalmem } from 'node:os';

/**
 * The young generation (V8's new space: two semi-spaces) the gateway server runs with, MB per semi-space.
 * V8's default on 64-bit is 16 on hosts with more than about 4 GB of memory (a V8 heap limit above about 1.1 GB);
 * there, at 8, the gateway's resident set under load is about 15 MB lower (c=64: 131-136 -> 117-123 MB median)
 * for about 3-4% more CPU per request (more scavenges; docs/benchmarks.md, "Memory"). V8's default shrinks with
 * the heap limit, which node takes from the host's or container's memory: at a heap limit of about 1 GB it is
 * already 8 and at 512 MB 4, so on such small hosts the flag saves nothing or enlarges the young generation
 * (the server warns at startup, `youngGenerationWarning`; start node without the flag there).
 */
export const GATEWAY_SEMI_SPACE_MB = 8;

/**
 * V8's background threads (concurrent and parallel GC, compilation) the gateway server runs with; node's
 * default is 4. Each such thread that allocates gets its own malloc arena, and the pages it touched stay
 * resident: at 2 the gateway's resident set is 5-7 MB lower under the benchmark's c=64 load (115-117 -> 109-111
 * MB median) and 9 MB lower in the load after a 512-stream burst (124 -> 115), with no CPU difference above
 * the noise (docs/benchmarks.md, "Memory"). Its heap is small (a live heap of 20-30 MB), so two helpers are
 * plenty for its collections on any host.
 */
export const GATEWAY_V8_POOL_SIZE = 2;

/**
 * The node flags the gateway server starts with (its `start` and `serve` scripts pass them; so do the
 * benchmarks that measure it): the young generation's size and V8's background threads. V8 sizes both once,
 * when the process starts: `v8.setFlagsFromString('--max-semi-space-size=...')` later has no effect, so these
 * cannot be runtime settings like `tuneHeapForGateway`. To change them, start node with other values (command
 * line or `NODE_OPTIONS`).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`, `--v8-pool-size=${GATEWAY_V8_POOL_SIZE}`];

/**
 * The `--max-semi-space-size` (MB) this process was started with, from `NODE_OPTIONS` and then the command
 * line (the later one wins, as in node); undefined when neither sets it (V8's default).
 */
export function semiSpaceSizeMb(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): number | undefined {
  return nodeFlagMb('max-semi-space-size', execArgv, nodeOptions);
}

/** What decides V8's own young generation size in this process (the warning's inputs). */
export interface YoungGenerationHost {
  /** The `--max-semi-space-size` the process runs with (`semiSpaceSizeMb()`). */
  semiSpaceMb: number | undefined;
  /** `v8.getHeapStatistics().heap_size_limit`, bytes. */
  heapLimitBytes: number;
  /** The memory node sizes V8's heap from: the container's limit if lower than the host's, bytes. */
  memoryBytes: number;
  execArgv?: readonly string[];
  nodeOptions?: string;
}

/**
 * A warning when `--max-semi-space-size` enlarges the young generation or saves nothing, else undefined.
 * V8's own semi-space size is 16 MB when its default heap limit is above about 1.1 GB and shrinks below it
 * (8 MB at about 1 GB, 4 at 512 MB). That default comes from `--max-heap-size` when given (what the heap limit
 * shows), else from the memory node sees (a quarter of it for the old generation, at most 4 GB): with only
 * `--max-old-space-size` the heap limit is that flag's, but the young generation is still sized from memory.
 */
export function youngGenerationWarning(host: YoungGenerationHost): string | undefined {
  const { semiSpaceMb } = host;
  if (!semiSpaceMb) return undefined;
  const execArgv = host.execArgv ?? process.execArgv;
  const nodeOptions = host.nodeOptions ?? process.env.NODE_OPTIONS ?? '';
  const fromMemory = nodeFlagMb('max-heap-size', execArgv, nodeOptions) === undefined && nodeFlagMb('max-old-space-size', execArgv, nodeOptions) !== undefined;
  const heapLimitMb = Math.round(host.heapLimitBytes / MB);
  const memoryMb = Math.round(host.memoryBytes / MB);
  const small = fromMemory ? memoryMb / 4 <= 1024 : heapLimitMb <= 1049;
  if (!small) return undefined;
  const why = fromMemory ? `${memoryMb} MB of memory` : `heap limit ${heapLimitMb} MB`;
  return `${why}: V8's own young generation here is 8 MB semi-spaces or less, so --max-semi-space-size=${semiSpaceMb} enlarges it or saves nothing; start node without that flag`;
}

/** The memory node sizes V8's heap from: the container's limit when there is one below the host's memory. */
export function nodeMemoryBytes(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 ? Math.min(total, constrained) : total;
}

const MB = 2 ** 20;

/** A node flag's numeric value (MB) from `NODE_OPTIONS`, then the command line (the later one wins, as in node). */
function nodeFlagMb(name: string, execArgv: readonly string[], nodeOptions: string): number | undefined {
  const flag = new RegExp(`^--${name.replaceAll('-', '[-_]')}(?:=(.*))?$`);
  let found: number | undefined;
  for (const args of [nodeOptions.split(/\s+/).filter(Boolean), execArgv]) {
    for (let i = 0; i < args.length; i++) {
      const m = flag.exec(args[i]!);
      if (!m) continue;
      const value = Number(m[1] ?? args[++i]);
      if (Number.isFinite(value) && value > 0) found = value;
    }
  }
  return found;
}
