import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferedCounter } from './buffered-counter.js';

type Label = 'model' | 'status' | 'tenant';
const NAMES: Label[] = ['model', 'status', 'tenant'];
const config = (registry: Registry) => ({ name: 'c_total', help: 'help', labelNames: NAMES, registers: [registry] });

/** A buffered counter and a plain one fed the same calls, the plain one as the gateway fed it before (a labels literal per call). */
function pair(cellsMax?: number) {
  const buffered = new Registry();
  const plain = new Registry();
  const b = new BufferedCounter<Label>(config(buffered), cellsMax);
  const p = new Counter<Label>(config(plain));
  return {
    b,
    p,
    buffered,
    plain,
    add(by: number, model: string, status: string, tenant: string) {
      let thrown: unknown;
      let plainThrown: unknown;
      try {
        b.add(by, model, status, tenant);
      } catch (e) {
        thrown = e;
      }
      try {
        p.inc({ model, status, tenant }, by);
      } catch (e) {
        plainThrown = e;
      }
      expect(String(thrown)).toBe(String(plainThrown));
    },
    async same() {
      const [got, want] = await Promise.all([buffered.metrics(), plain.metrics()]);
      expect(got).toBe(want);
      return got;
    },
    reset() {
      buffered.resetMetrics();
      plain.resetMetrics();
    },
  };
}

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('BufferedCounter', () => {
  it('exposes what a plain Counter exposes, in the same order, read between calls or not', async () => {
    const c = pair();
    c.add(1, 'b', 'success', 't1');
    c.add(3, 'a', 'success', 't1');
    await c.same();
    c.add(2, 'b', 'success', 't1');
    c.add(1, 'a', 'rate_limited', 't2');
    c.add(0, 'z', 'success', 't1'); // a zero still creates the series, as inc(labels, 0) does
    const text = await c.same();
    expect(text).toContain('c_total{model="b",status="success",tenant="t1"} 3');
    expect(text).toContain('c_total{model="z",status="success",tenant="t1"} 0');
    expect(text.indexOf('model="b"')).toBeLessThan(text.indexOf('model="a"'));
  });

  it('keeps the order of fractional additions and of series first seen through them', async () => {
    const c = pair();
    c.add(5, 'a', 's', 't');
    c.add(0.1, 'b', 's', 't'); // b is new: a goes out first
    c.add(0.2, 'b', 's', 't');
    c.add(7, 'b', 's', 't');
    c.add(0.7, 'a', 's', 't');
    c.add(1, 'c', 's', 't');
    await c.same();
  });

  it('throws on a negative or non-finite amount as prom-client does, and keeps counting after', async () => {
    const c = pair();
    c.add(2, 'a', 's', 't');
    c.add(-1, 'a', 's', 't');
    c.add(-1, 'n', 's', 't');
    c.add(Number.POSITIVE_INFINITY, 'a', 's', 't');
    c.add(Number.NaN, 'q', 's', 't'); // prom-client lets NaN through (the series reads Nan): so does this
    c.add(1, 'a', 's', 't');
    const text = await c.same();
    expect(text).toContain('c_total{model="a",status="s",tenant="t"} 3');
    expect(text).not.toContain('model="n"');
    expect(text).toContain('c_total{model="q",status="s",tenant="t"} Nan');
  });

  it('drops what it held on registry.resetMetrics(), and counts on after it in the order series come back', async () => {
    const c = pair();
    c.add(1, 'a', 's', 't');
    c.add(1, 'b', 's', 't');
    await c.same();
    c.add(4, 'a', 's', 't'); // not yet written out: lost with the reset, as prom-client's own series are
    c.reset();
    expect(await c.same()).not.toContain('c_total{');
    c.add(1, 'b', 's', 't');
    c.add(2, 'a', 's', 't');
    const text = await c.same();
    expect(text.indexOf('model="b"')).toBeLessThan(text.indexOf('model="a"'));
    expect(text).toContain('c_total{model="a",status="s",tenant="t"} 2');
  });

  it('remove() takes the series out with what was held for it', async () => {
    const c = pair();
    c.add(1, 'a', 's', 't');
    c.add(1, 'b', 's', 't');
    c.b.remove({ model: 'a', status: 's', tenant: 't' });
    c.p.remove({ model: 'a', status: 's', tenant: 't' });
    c.add(1, 'c', 's', 't');
    c.add(1, 'a', 's', 't');
    const text = await c.same();
    expect(text.indexOf('model="c"')).toBeLessThan(text.indexOf('model="a"'));
  });

  it('stays bounded: past cellsMax it writes out, starts over, and the exposition is unchanged', async () => {
    const c = pair(4);
    const next = random(13);
    for (let i = 0; i < 2000; i++) {
      const model = `m${Math.floor(next() * 5)}`;
      const status = next() < 0.8 ? 'success' : 'provider_error';
      const tenant = `t${Math.floor(next() * 3)}`;
      const roll = next();
      const by = roll < 0.05 ? 0 : roll < 0.1 ? Math.round(next() * 1000) / 1000 : Math.floor(next() * 900);
      c.add(by, model, status, tenant);
      if (i % 97 === 0) await c.same();
      if (i === 1200) c.reset();
      expect((c.b as unknown as { cells: unknown[] }).cells.length).toBeLessThanOrEqual(4);
    }
    await c.same();
  });

  it('hands an amount that would take a cell past 2^53 to prom-client as it comes', async () => {
    const c = pair();
    c.add(Number.MAX_SAFE_INTEGER - 1, 'a', 's', 't');
    c.add(5, 'a', 's', 't');
    c.add(1, 'a', 's', 't');
    await c.same();
  });

  it('reads the same as a plain Counter while a series stays at or below 2^53, the documented limit', async () => {
    // Sums of whole numbers up to 2^53 are exact in any grouping; past it both round, at different points.
    const c = pair();
    c.add(2 ** 53 - 40, 'a', 's', 't');
    c.add(7, 'b', 's', 't');
    await c.same();
    for (let i = 0; i < 40; i++) {
      c.add(1, 'a', 's', 't');
      if (i % 13 === 0) await c.same();
    }
    const text = await c.same();
    expect(text).toContain(`c_total{model="a",status="s",tenant="t"} ${2 ** 53}`);
  });

  it('an add() that lands while /metrics is being built shows in the next scrape, nothing lost', async () => {
    // The snapshot is taken when the scrape starts: a plain Counter's live values may already show an increment
    // made while the text is built; the buffered one shows it one scrape later.
    const c = pair();
    c.add(1, 'm', 'success', 't');
    // A request finishing in a microtask queued before the scrape starts, so it runs after get() wrote the cells out.
    void Promise.resolve().then(() => c.add(1, 'm', 'success', 't'));
    const [during, plainDuring] = await Promise.all([c.buffered.metrics(), c.plain.metrics()]);
    expect(during).toContain('c_total{model="m",status="success",tenant="t"} 1\n');
    expect(plainDuring).toContain('c_total{model="m",status="success",tenant="t"} 2\n');
    const next = await c.same();
    expect(next).toContain('c_total{model="m",status="success",tenant="t"} 2\n');
    c.add(1, 'm', 'success', 't');
    expect(await c.same()).toContain('c_total{model="m",status="success",tenant="t"} 3\n');
  });

  it('inherited inc() and labels().inc() mixed with add() keep the order and values of the same calls on a plain Counter', async () => {
    const c = pair();
    c.add(1, 'a', 's', 't');
    c.b.labels('b', 's', 't').inc(1);
    c.p.labels('b', 's', 't').inc(1);
    c.add(2, 'c', 's', 't');
    const child = c.b.labels({ model: 'a', status: 's', tenant: 't' });
    const plainChild = c.p.labels({ model: 'a', status: 's', tenant: 't' });
    c.add(4, 'a', 's', 't'); // held in a's cell when the child's inc() comes
    child.inc(0.5);
    plainChild.inc(0.5);
    c.b.inc({ model: 'd', status: 's', tenant: 't' }, 3);
    c.p.inc({ model: 'd', status: 's', tenant: 't' }, 3);
    c.add(1, 'c', 's', 't');
    const text = await c.same();
    expect(text).toContain('c_total{model="a",status="s",tenant="t"} 5.5');
    expect(text.indexOf('model="a"')).toBeLessThan(text.indexOf('model="b"'));
    expect(text.indexOf('model="b"')).toBeLessThan(text.indexOf('model="c"'));
    expect(text.indexOf('model="c"')).toBeLessThan(text.indexOf('model="d"'));
    expect(() => c.b.inc({ model: 'a', status: 's', tenant: 't' }, -1)).toThrow(/decrease/);
    await c.same();
  });

  it('takes only name, help, labelNames and registers: a collect callback or exemplars throw', () => {
    const registry = new Registry();
    const base = { name: 'x_total', help: 'h', labelNames: NAMES, registers: [registry] };
    // Plain JS callers can still pass them; the types leave them out, hence the casts.
    expect(() => new BufferedCounter<Label>({ ...base, collect() {} } as never)).toThrow(/not collect/);
    const open = new Registry();
    open.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    expect(() => new BufferedCounter<Label>({ ...base, registers: [open], enableExemplars: true } as never)).toThrow(/not enableExemplars/);
    expect(() => new BufferedCounter<Label>({ ...base, enableExemplars: false } as never)).toThrow(/not enableExemplars/);
    expect(() => new BufferedCounter<Label>({ ...base, aggregator: 'sum' } as never)).toThrow(/not aggregator/);
    expect(registry.getSingleMetric('x_total')).toBeUndefined();
    expect(open.getSingleMetric('x_total')).toBeUndefined();
  });

  describe('when prom-client\'s inc() throws during a write-out', () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('keeps what the cells held and writes it out on the next read', async () => {
      // prom-client's constructor takes `inc` from the prototype; the spy fails the first write-out once.
      const proto = Counter.prototype as unknown as { incWithoutExemplar: (...a: unknown[]) => unknown };
      const spy = vi.spyOn(proto, 'incWithoutExemplar');
      const c = pair();
      c.add(3, 'a', 's', 't');
      c.add(2, 'b', 's', 't');
      c.add(4, 'a', 's', 't');
      spy.mockImplementationOnce(() => {
        throw new Error('injected');
      });
      await expect(c.b.get()).rejects.toThrow('injected');
      const text = await c.same();
      expect(text).toContain('c_total{model="a",status="s",tenant="t"} 7');
      expect(text).toContain('c_total{model="b",status="s",tenant="t"} 2');
    });
  });

  it('takes one to five labels', async () => {
    const registry = new Registry();
    const one = new BufferedCounter<'code'>({ name: 'one_total', help: 'h', labelNames: ['code'], registers: [registry] });
    one.add(2, 'x');
    const five = new BufferedCounter<'a' | 'b' | 'c' | 'd' | 'e'>({ name: 'five_total', help: 'h', labelNames: ['a', 'b', 'c', 'd', 'e'], registers: [registry] });
    five.add(2, '1', '2', '3', '4', '5');
    five.add(3, '1', '2', '3', '4', '5');
    five.add(1, '1', '2', '3', '4', '6');
    const text = await registry.metrics();
    expect(text).toContain('five_total{a="1",b="2",c="3",d="4",e="5"} 5');
    expect(text).toContain('five_total{a="1",b="2",c="3",d="4",e="6"} 1');
    expect(() => new BufferedCounter({ name: 'none_total', help: 'h', labelNames: [], registers: [registry] })).toThrow(/1 to 5 labels/);
    expect(() => new BufferedCounter({ name: 'six_total', help: 'h', labelNames: ['a', 'b', 'c', 'd', 'e', 'f'], registers: [registry] })).toThrow(/1 to 5 labels/);
  });
});
