/** Runs `load` once, on first use; concurrent first calls share one load; a failed load is retried next time. */
export class LoadOnce<T> {
  private loading: Promise<T> | undefined;

  constructor(private readonly load: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.loading) {
      const loading = this.load();
      this.loading = loading;
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    return this.loading;
  }

  /** Forgets the load (the next get() loads again) and returns what it loaded: waits for a load in flight; undefined when none or it failed. */
  async take(): Promise<T | undefined> {
    const loading = this.loading;
    this.loading = undefined;
    return loading?.catch(() => undefined);
  }
}
