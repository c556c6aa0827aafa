import { vi } from 'vitest';

/**
 * Runs `run` with a spy on JSON.parse and returns how many characters JSON.parse was handed meanwhile: a
 * deterministic measure of parsing work (a cost that grows with it shows without timing anything).
 */
export function jsonParseChars(run: () => void): number {
  let parsedChars = 0;
  const real = JSON.parse;
  const spy = vi.spyOn(JSON, 'parse').mockImplementation(((text: string, reviver?: never) => {
    parsedChars += text.length;
    return real(text, reviver);
  }) as typeof JSON.parse);
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return parsedChars;
}
