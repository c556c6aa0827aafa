/**
 * The longest time the event loop was blocked while `run` ran (a timer every 20 ms; 50 ms more after it settles, so
 * a stall that ends with it is counted): for tests that some work does not stop every other request.
 */
export async function longestEventLoopGap<T>(run: () => Promise<T>): Promise<{ value: T; longestGap: number }> {
  let longestGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 20);
  try {
    const value = await run();
    await new Promise((r) => setTimeout(r, 50));
    return { value, longestGap };
  } finally {
    clearInterval(timer);
  }
}
