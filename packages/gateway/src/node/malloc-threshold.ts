import { GATEWAY_NODE_ENV } from './young-generation.js';

/** The C library node runs on, as far as it decides what the malloc threshold settings do. */
export type CLibrary = { name: 'glibc'; version: string } | { name: 'musl' } | { name: 'other' };

let ownLibrary: CLibrary | undefined;

/**
 * glibc (with its version) when node reports one (`process.report`'s `glibcVersionRuntime`); on Linux without one,
 * musl (Alpine's), whose malloc reads no environment; elsewhere another C library. Read once (a report takes a few
 * ms): call it at startup, not per request. The report is made without its network part (`excludeNetwork`): with
 * sockets open, node would look each peer's name up in DNS, synchronously.
 */
export function cLibrary(header?: { glibcVersionRuntime?: string }, platform: string = process.platform): CLibrary {
  if (header === undefined) {
    ownLibrary ??= cLibrary(reportHeader(), platform);
    return ownLibrary;
  }
  if (typeof header.glibcVersionRuntime === 'string') return { name: 'glibc', version: header.glibcVersionRuntime };
  return platform === 'linux' ? { name: 'musl' } : { name: 'other' };
}

/** `process.report`'s header, made without the report's network part (no reverse DNS per open socket). */
function reportHeader(): { glibcVersionRuntime?: string } {
  const report = process.report as (typeof process.report & { excludeNetwork?: boolean }) | undefined;
  if (!report) return {};
  const excluded = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    return (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header ?? {};
  } finally {
    report.excludeNetwork = excluded;
  }
}

const UINT64_MAX = 2n ** 64n - 1n;

/** Whether a glibc version (`2.39`) is at least `major.minor`. */
function atLeast(version: string, major: number, minor: number): boolean {
  const [ma = 0, mi = 0] = version.split('.').map(Number);
  return ma > major || (ma === major && mi >= minor);
}

/**
 * A number as glibc's loader reads a tunable (`_dl_strtoul`, elf/dl-misc.c): blanks and tabs first, a sign, then
 * `0x` hex, `0` octal or decimal; no digit reads 0, a minus wraps. Its overflow check is stricter than overflow: a
 * digit is refused when the number so far is at least `(UINT64_MAX - digit) / base` (`18446744073709551610` reads
 * UINT64_MAX), and the reading stops there at UINT64_MAX. `whole`: nothing follows the number read.
 */
function glibcNumber(text: string): { value: bigint; whole: boolean } {
  let i = 0;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const negative = text[i] === '-';
  if (text[i] === '-' || text[i] === '+') i++;
  if (!(text[i]! >= '0' && text[i]! <= '9')) return { value: 0n, whole: i === text.length };
  let base = 10n;
  let digits = /[0-9]/;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    base = 16n;
    digits = /[0-9a-fA-F]/;
    i += 2;
  } else if (text[i] === '0') {
    base = 8n;
    digits = /[0-7]/;
  }
  let value = 0n;
  for (; i < text.length && digits.test(text[i]!); i++) {
    const digit = BigInt(parseInt(text[i]!, 16));
    if (value >= (UINT64_MAX - digit) / base) return { value: UINT64_MAX, whole: false };
    value = value * base + digit;
  }
  if (negative && value !== 0n) value = 2n ** 64n - value;
  return { value, whole: i === text.length };
}

/**
 * A tunable's value as this glibc takes it, or undefined when it ignores it: before 2.39 the number in front of
 * anything else (`128k` is 128, `abc` 0); from 2.39 (the tunables parser rewrite) a value with anything after its
 * number is ignored, with a warning on stderr.
 */
function tunableValue(text: string, version: string): bigint | undefined {
  const { value, whole } = glibcNumber(text);
  return whole || !atLeast(version, 2, 39) ? value : undefined;
}

/**
 * The values GLIBC_TUNABLES gives each tunable, in order, as this glibc's loader splits the string
 * (elf/dl-tunables.c): `name=value` pairs separated by `:`, a part without `=` skipped. Before 2.39 the pairs apply
 * one by one: a value runs to the next `:` (it may hold `=`), and the end reached while reading a name stops there
 * (the pairs before it stay). From 2.39 (`parse_tunables_string`) a string that is not well formed - the end reached
 * while reading a name (a trailing `:`, a last part without `=`), or a value holding `=` - is ignored whole
 * (undefined: "invalid GLIBC_TUNABLES ... ignored"); an empty string sets nothing.
 */
function tunablesOf(text: string, version: string): Map<string, string[]> | undefined {
  const strict = atLeast(version, 2, 39);
  const values = new Map<string, string[]>();
  let p = 0;
  for (;;) {
    const nameStart = p;
    while (p < text.length && text[p] !== '=' && text[p] !== ':') p++;
    if (p === text.length) return strict && text !== '' ? undefined : values;
    if (text[p] === ':') {
      p++;
      continue;
    }
    const name = text.slice(nameStart, p++);
    const valueStart = p;
    while (p < text.length && text[p] !== ':' && !(strict && text[p] === '=')) p++;
    if (p < text.length && text[p] === '=') return undefined;
    values.set(name, [...(values.get(name) ?? []), text.slice(valueStart, p)]);
    if (p === text.length) return values;
    p++;
  }
}

/**
 * The malloc threshold GLIBC_TUNABLES sets, as this glibc takes it: undefined when it sets none, or sets one glibc
 * ignores (the variable, MALLOC_MMAP_THRESHOLD_, applies then). Given more than once, the last counts (from 2.39
 * only that one is read: invalid, it is ignored). From 2.40, `glibc.rtld.enable_secure=1` ignores every tunable and
 * alias: `null`.
 */
function thresholdFromTunables(text: string, version: string): bigint | null | undefined {
  const values = tunablesOf(text, version);
  if (!values) return undefined;
  const secure = values.get('glibc.rtld.enable_secure')?.at(-1);
  if (secure !== undefined && atLeast(version, 2, 40) && tunableValue(secure, version) === 1n) return null;
  const last = values.get('glibc.malloc.mmap_threshold')?.at(-1);
  return last === undefined ? undefined : tunableValue(last, version);
}

/** `mallocMmapThresholdSetting`, with the threshold exact (it may be up to 2^64 - 1). */
function thresholdSetting(env: NodeJS.ProcessEnv, libc: CLibrary): { bytes: bigint; from: 'GLIBC_TUNABLES' | 'MALLOC_MMAP_THRESHOLD_' } | undefined {
  if (libc.name !== 'glibc') return undefined;
  const fromTunables = env.GLIBC_TUNABLES === undefined ? undefined : thresholdFromTunables(env.GLIBC_TUNABLES, libc.version);
  if (fromTunables === null) return undefined;
  if (fromTunables !== undefined) return { bytes: fromTunables, from: 'GLIBC_TUNABLES' };
  const raw = env.MALLOC_MMAP_THRESHOLD_;
  const value = raw === undefined ? undefined : tunableValue(raw, libc.version);
  return value === undefined ? undefined : { bytes: value, from: 'MALLOC_MMAP_THRESHOLD_' };
}

/**
 * glibc's malloc threshold this process was started with and where it came from: `GLIBC_TUNABLES`'
 * `glibc.malloc.mmap_threshold` (which wins) or `MALLOC_MMAP_THRESHOLD_`, read as glibc reads them (by version:
 * from 2.39 an ill-formed GLIBC_TUNABLES string, or a value with anything after its number, is ignored); undefined
 * when neither sets one (glibc's own, which moves) or the C library is not glibc (musl ignores both). Set but empty,
 * glibc reads 0: every block mapped on its own, several times slower (the scripts' `${...:-}` default replaces an
 * empty value). `bytes` is a Number: past 2^53 it is not exact (`mallocSummary` prints it exactly).
 */
export function mallocMmapThresholdSetting(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): { bytes: number; from: 'GLIBC_TUNABLES' | 'MALLOC_MMAP_THRESHOLD_' } | undefined {
  const setting = thresholdSetting(env, libc);
  return setting && { bytes: Number(setting.bytes), from: setting.from };
}

/** The malloc threshold (bytes) this process was started with (`mallocMmapThresholdSetting`), or undefined. */
export function mallocMmapThreshold(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): number | undefined {
  return mallocMmapThresholdSetting(env, libc)?.bytes;
}

/**
 * The startup log's `malloc:` line (after the label): the threshold glibc runs with and where it came from; glibc's
 * moving one, with the setting that fixes it; or, under musl or another C library, that the setting does nothing.
 */
export function mallocSummary(env: NodeJS.ProcessEnv = process.env, libc: CLibrary = cLibrary()): string {
  if (libc.name === 'musl') return `musl's allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here${env.MALLOC_MMAP_THRESHOLD_ !== undefined ? ', though set' : ''})`;
  if (libc.name === 'other') return `the C library's own allocator (MALLOC_MMAP_THRESHOLD_ is glibc's setting: ignored here)`;
  const setting = thresholdSetting(env, libc);
  if (setting) return `blocks of ${setting.bytes.toString()} bytes and more mapped on their own (${setting.from})`;
  return `glibc's moving threshold (start node with MALLOC_MMAP_THRESHOLD_=${GATEWAY_NODE_ENV.MALLOC_MMAP_THRESHOLD_} in the environment for less memory after bursts, as pnpm start does)`;
}
