/**
 * A `warn(message)` a log was given (`RouterOptions.warn`, a store's `warn`) made safe to call from anywhere: a log that
 * throws, or an async one whose promise rejects, fails nothing and leaves no unhandled rejection (the message is lost).
 */
export function safeWarn(warn: (message: string) => void): (message: string) => void {
  return (message) => {
    try {
      const r: unknown = warn(message);
      if (typeof r === 'object' && r !== null && typeof (r as PromiseLike<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, () => {});
      }
    } catch {
      // a log that throws never fails what it reports on
    }
  };
}
