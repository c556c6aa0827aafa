import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from './typed-emitter.js';

interface Events {
  a: { n: number };
  b: string;
}

describe('TypedEmitter', () => {
  it('calls listeners in order with the payload, and off/unsubscribe remove them', () => {
    const e = new TypedEmitter<Events>();
    const seen: string[] = [];
    const one = (p: { n: number }) => seen.push(`one:${p.n}`);
    const offTwo = e.on('a', (p) => seen.push(`two:${p.n}`));
    e.on('a', one);
    e.emit('a', { n: 1 });
    offTwo();
    e.emit('a', { n: 2 });
    e.off('a', one);
    e.emit('a', { n: 3 });
    expect(seen).toEqual(['two:1', 'one:1', 'one:2']);
    expect(e.has('a')).toBe(false);
  });

  it('a listener added twice for one event is called once per event; it stays added for other events', () => {
    const e = new TypedEmitter<Events>();
    const seen: string[] = [];
    const fn = (p: { n: number } | string) => seen.push(typeof p === 'string' ? `b:${p}` : `a:${p.n}`);
    const first = e.on('a', fn);
    const second = e.on('a', fn);
    e.on('b', fn);
    e.emit('a', { n: 1 });
    e.emit('b', 'x');
    second(); // the ignored on()'s remover does nothing: the first subscription stays
    e.emit('a', { n: 2 });
    first();
    e.emit('a', { n: 3 });
    e.emit('b', 'y');
    expect(seen).toEqual(['a:1', 'b:x', 'a:2', 'b:y']);
    expect(e.has('a')).toBe(false);
  });

  it('once fires a single time', () => {
    const e = new TypedEmitter<Events>();
    const fn = vi.fn();
    e.once('b', fn);
    e.emit('b', 'x');
    e.emit('b', 'y');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith('x');
  });

  it('a throwing listener is reported and the others still run', () => {
    const errors: Array<[unknown, string]> = [];
    const e = new TypedEmitter<Events>({ onListenerError: (err, ev) => errors.push([err, ev]) });
    const after = vi.fn();
    e.on('b', () => {
      throw new Error('boom');
    });
    e.on('b', after);
    expect(() => e.emit('b', 'x')).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    expect(errors).toHaveLength(1);
    expect((errors[0]![0] as Error).message).toBe('boom');
    expect(errors[0]![1]).toBe('b');
  });

  it('a rejecting async listener is reported, not left unhandled', async () => {
    const errors: unknown[] = [];
    const e = new TypedEmitter<Events>({ onListenerError: (err) => errors.push(err) });
    e.on('b', async () => {
      throw new Error('async boom');
    });
    e.emit('b', 'x');
    await new Promise((r) => setTimeout(r, 0));
    expect((errors[0] as Error).message).toBe('async boom');
  });

  it('a listener removed during emit does not disturb the running emit', () => {
    const e = new TypedEmitter<Events>();
    const seen: number[] = [];
    const second = () => seen.push(2);
    e.on('b', () => {
      seen.push(1);
      e.off('b', second);
    });
    e.on('b', second);
    e.emit('b', 'x');
    e.emit('b', 'y');
    expect(seen).toEqual([1, 2, 1]);
  });
});
