import { Counter, type CounterConfiguration } from 'prom-client';

/** Label sets a counter keeps a cell for; on a new one past this, the cells are written out and dropped, then refilled. */
export const COUNTER_CELLS_MAX = 4096;

/** One label set's series: its labels object (given to prom-client once per scrape) and what was added since. */
interface Cell<T extends string> {
  readonly labels: Partial<Record<T, string>>;
  pending: number;
  touched: boolean;
  /** In prom-client's series already (written out at least once since the cells were last dropped). */
  written: boolean;
}

type Level = Map<string | undefined, unknown>;

/** What the gateway gives its counters; nothing else (no `collect`, no `enableExemplars`, no `aggregator`). */
export interface BufferedCounterConfiguration<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly registers?: CounterConfiguration<T>['registers'];
}

const CONFIG_KEYS: ReadonlySet<string> = new Set(['name', 'help', 'labelNames', 'registers']);

type IncNow<T extends string> = (labels: Partial<Record<T, string>>, value: number) => void;

/**
 * A prom-client `Counter` for the hot path: `add(by, ...labelValues)` finds the label set's cell through
 * nested maps (no labels object, no hash string) and keeps whole-number additions there until the counter
 * is read (`get()`, as `/metrics` does), when each touched cell goes to prom-client's `inc()` in the order
 * the label sets first appeared, as the direct calls would have put them. Whole numbers add up exactly in
 * any grouping while a series' total stays at or below 2^53 (about 9.007e15), so for the same calls
 * completed before a scrape starts, the exposition is byte for byte a plain Counter's; past 2^53 both
 * round, at different points, and may read differently. A fractional, negative or non-finite amount first
 * writes the cell out (all cells, if its series is new to prom-client) and then goes to `inc()` itself,
 * which keeps the order of float additions and throws as before.
 *
 * The snapshot is taken when a scrape starts (`get()` writes the cells out, then prom-client formats):
 * an `add()` that lands while `/metrics` is being built (after `get()`, before the text is done) shows in
 * the next scrape, not this one, where a plain Counter's live values may already show it. Nothing is lost
 * and the counter stays monotonic; it reads one scrape late.
 *
 * The constructor takes `name`, `help`, `labelNames` (1 to 5) and `registers` only; anything else (a
 * `collect` callback, `enableExemplars`, `aggregator`) throws, typed out and checked at run time. The
 * inherited `inc()` (also through `labels(...).inc()`) and `remove()` write every cell out first, so series
 * order and values match a plain Counter fed the same calls; that costs a pass over the cells per call, so
 * the hot path uses `add()`. `reset()` (also `registry.resetMetrics()`) drops the cells with what they
 * held, as prom-client drops its series. A cell is zeroed only after prom-client took its sum, so a
 * throwing `inc()` loses nothing. Cells are capped (`cellsMax`): a new label set past it writes all out
 * and starts over.
 */
export class BufferedCounter<T extends string> extends Counter<T> {
  private readonly names: readonly T[];
  private readonly cellsMax: number;
  /** prom-client's own `inc()` (without exemplars), which the public `inc()` calls after writing the cells out. */
  private readonly incNow: IncNow<T>;
  private root: Level = new Map();
  private cells: Array<Cell<T>> = [];

  constructor(config: BufferedCounterConfiguration<T>, cellsMax = COUNTER_CELLS_MAX) {
    for (const key of Object.keys(config)) {
      if (!CONFIG_KEYS.has(key)) throw new TypeError(`BufferedCounter takes name, help, labelNames and registers only, not ${key}`);
    }
    if (config.labelNames.length < 1 || config.labelNames.length > 5) throw new Error('BufferedCounter takes 1 to 5 labels');
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: config.registers });
    this.names = config.labelNames;
    this.cellsMax = Math.max(1, cellsMax);
    // prom-client's constructor puts `inc` on the instance (incWithoutExemplar), and `labels()` binds it, so
    // the override goes there too.
    const incNow = this.inc as unknown as IncNow<T>;
    this.incNow = incNow;
    const inc = (...args: unknown[]): void => {
      this.flush();
      (incNow as (...a: unknown[]) => void).apply(this, args);
    };
    this.inc = inc as Counter<T>['inc'];
  }

  /** Adds `by` to the series with these label values, given in `labelNames` order. */
  add(by: number, v0: string, v1?: string, v2?: string, v3?: string, v4?: string): void {
    const cell = this.cellFor(v0, v1, v2, v3, v4);
    if (Number.isSafeInteger(by) && by >= 0 && Number.isSafeInteger(cell.pending + by)) {
      cell.pending += by;
      cell.touched = true;
      return;
    }
    // A series new to prom-client goes in after the ones whose cells came before it, as direct calls put it.
    if (cell.written) this.writeOut(cell);
    else this.flush();
    this.incNow(cell.labels, by);
    cell.written = true;
  }

  override async get() {
    this.flush();
    return super.get();
  }

  override reset(): void {
    // Also called by prom-client's constructor, before this class's fields exist.
    this.drop();
    super.reset();
  }

  override remove(...args: unknown[]): void {
    this.flush();
    this.drop();
    (Counter.prototype.remove as (...a: unknown[]) => void).apply(this, args);
  }

  /** Writes every touched cell out to prom-client, oldest label set first. */
  private flush(): void {
    for (const cell of this.cells) this.writeOut(cell);
  }

  private writeOut(cell: Cell<T>): void {
    if (!cell.touched) return;
    // Zeroed only once prom-client took the sum: if inc() throws, the next read writes it out again.
    this.incNow(cell.labels, cell.pending);
    cell.pending = 0;
    cell.touched = false;
    cell.written = true;
  }

  private drop(): void {
    this.root = new Map();
    this.cells = [];
  }

  private cellFor(v0: string, v1: string | undefined, v2: string | undefined, v3: string | undefined, v4: string | undefined): Cell<T> {
    const last = this.names.length - 1;
    let level = this.root;
    for (let i = 0; i < last; i++) {
      const key = i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : v3;
      let next = level.get(key) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = last === 0 ? v0 : last === 1 ? v1 : last === 2 ? v2 : last === 3 ? v3 : v4;
    const found = level.get(key) as Cell<T> | undefined;
    if (found !== undefined) return found;
    if (this.cells.length >= this.cellsMax) {
      this.flush();
      this.drop();
      return this.cellFor(v0, v1, v2, v3, v4);
    }
    const labels: Partial<Record<T, string>> = {};
    for (let i = 0; i <= last; i++) labels[this.names[i]!] = (i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : i === 3 ? v3 : v4)!;
    const cell: Cell<T> = { labels, pending: 0, touched: false, written: false };
    level.set(key, cell);
    this.cells.push(cell);
    return cell;
  }
}
