/** Where a CLI run writes and reads: the process streams in `main.ts`, in-memory ones in tests. */
export interface CliWritable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface CliReadable extends AsyncIterable<string | Uint8Array> {
  isTTY?: boolean;
}

export interface CliIO {
  stdout: CliWritable;
  stderr: CliWritable;
  /** Read for the prompt when none is given and it is not a terminal. Absent: treated as a terminal. */
  stdin?: CliReadable;
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where relative paths and `llmrr.config.*` are looked up. Default `process.cwd()`. */
  cwd?: string;
  /** Aborting it (Ctrl-C in `main.ts`) cancels the running command, which then exits 130. */
  signal?: AbortSignal;
}

/** What every command gets: the I/O with defaults filled in, and the global flags. */
export interface CliContext {
  stdout: CliWritable;
  stderr: CliWritable;
  stdin: CliReadable | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signal: AbortSignal | undefined;
}

/** Exit codes: 0 ok, 1 runtime (provider) error, 2 usage or config error, 130 interrupted. */
export const EXIT = { ok: 0, runtime: 1, usage: 2, interrupted: 130 } as const;
export type ExitCode = number;
