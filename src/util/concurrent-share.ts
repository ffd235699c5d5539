/**
 * One resource per key for the callers that need it at the same time: the first caller creates it, callers that
 * come while it exists wait for the same one, and the last caller to finish disposes of it. Nothing outlives its
 * users, so nothing goes stale: a caller that comes later gets a new one. A creation that fails is forgotten at
 * once (its waiting callers get the error) so that the next caller tries again.
 */
interface Shared<T> {
  value: Promise<T>;
  users: number;
  /** Aborted when the last user leaves before the creation finished. */
  controller: AbortController;
}

export class ConcurrentShare<T> {
  private readonly shared = new Map<string, Shared<T>>();

  constructor(private readonly dispose: (value: T) => Promise<void>) {}

  /** How many resources exist now (tests, diagnostics). */
  get size(): number {
    return this.shared.size;
  }

  /**
   * Runs `use` with the key's resource, created by `create` unless one exists. A caller whose `signal` aborts stops
   * waiting for the creation; when every caller has stopped, the creation's own signal aborts too.
   */
  async use<R>(key: string, create: (signal: AbortSignal) => Promise<T>, use: (value: T) => Promise<R>, signal?: AbortSignal): Promise<R> {
    let entry = this.shared.get(key);
    if (entry === undefined) {
      const controller = new AbortController();
      const created: Shared<T> = { value: create(controller.signal), users: 0, controller };
      created.value.catch(() => this.forget(key, created));
      this.shared.set(key, created);
      entry = created;
    }
    entry.users += 1;
    let settled = false;
    try {
      const value = await untilAborted(entry.value, signal);
      settled = true;
      return await use(value);
    } finally {
      entry.users -= 1;
      if (entry.users === 0) {
        this.forget(key, entry);
        entry.controller.abort(new Error('no caller needs it any more'));
        const disposal = entry.value.then(this.dispose, () => undefined);
        // A caller that stopped waiting does not wait for the creation to end either.
        if (settled) await disposal;
        else disposal.catch(() => undefined);
      }
    }
  }

  private forget(key: string, entry: Shared<T>): void {
    if (this.shared.get(key) === entry) this.shared.delete(key);
  }
}

/** `promise`, or the signal's reason once it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}
