import { loadUSearch, type USearchModule } from './usearch-index.js';

let loaded: USearchModule | undefined;
let loading: Promise<USearchModule | undefined> | undefined;

/**
 * The `usearch` module when it is installed (loaded once, in the background, on first call); undefined
 * until then or when it is missing, in which case indexes simply stay exact.
 */
export function annModule(): USearchModule | undefined {
  loading ??= loadUSearch().then(
    (m) => (loaded = m),
    () => undefined,
  );
  return loaded;
}

/** Waits for the background load (tests, benchmarks, and stores that want ANN from the first entry). */
export async function annReady(): Promise<USearchModule | undefined> {
  annModule();
  return loading;
}
