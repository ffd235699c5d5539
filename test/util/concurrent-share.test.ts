import { ConcurrentShare } from '../../src/util/concurrent-share';

/** A promise settled from outside, to hold a creation or a use open. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void; fail: (error: Error) => void } {
  let open: (value: T) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrentShare', () => {
  it('creates one resource for the callers of a key at the same time and disposes of it after the last', async () => {
    const disposed: string[] = [];
    const share = new ConcurrentShare<string>((value) => Promise.resolve(void disposed.push(value)));
    let created = 0;
    const create = (): Promise<string> => Promise.resolve(`resource-${++created}`);
    const first = gate();
    const second = gate();
    const uses = [
      share.use('a', create, async (value) => {
        await first.promise;
        return value;
      }),
      share.use('a', create, async (value) => {
        await second.promise;
        return value;
      }),
      share.use('b', create, (value) => Promise.resolve(value)),
    ];
    await settle();
    first.open();
    expect(await uses[0]).toBe('resource-1');
    expect(disposed).toEqual(['resource-2']);
    expect(share.size).toBe(1);
    second.open();
    expect(await Promise.all(uses)).toEqual(['resource-1', 'resource-1', 'resource-2']);
    expect(disposed).toEqual(['resource-2', 'resource-1']);
    expect(share.size).toBe(0);
    expect(await share.use('a', create, (value) => Promise.resolve(value))).toBe('resource-3');
  });

  it('gives a failed creation to every waiting caller, forgets it and creates anew for the next caller', async () => {
    const share = new ConcurrentShare<string>(() => Promise.resolve());
    const creation = gate<string>();
    const waiting = [0, 1].map(() => share.use('a', () => creation.promise, (value) => Promise.resolve(value)));
    creation.fail(new Error('clone failed'));
    for (const caller of waiting) await expect(caller).rejects.toThrow('clone failed');
    expect(share.size).toBe(0);
    expect(await share.use('a', () => Promise.resolve('fresh'), (value) => Promise.resolve(value))).toBe('fresh');
  });

  it('disposes of the resource when its user fails', async () => {
    const disposed: string[] = [];
    const share = new ConcurrentShare<string>((value) => Promise.resolve(void disposed.push(value)));
    await expect(share.use('a', () => Promise.resolve('r'), () => Promise.reject(new Error('stage crashed')))).rejects.toThrow('stage crashed');
    expect(disposed).toEqual(['r']);
    expect(share.size).toBe(0);
  });

  it('lets a cancelled caller stop waiting, and aborts the creation once no caller waits for it', async () => {
    const disposed: string[] = [];
    const share = new ConcurrentShare<string>((value) => Promise.resolve(void disposed.push(value)));
    let creationSignal: AbortSignal | undefined;
    const creation = gate<string>();
    const create = (signal: AbortSignal): Promise<string> => {
      creationSignal = signal;
      return creation.promise;
    };
    const [first, second] = [new AbortController(), new AbortController()];
    const callers = [first, second].map((controller) => share.use('a', create, (value) => Promise.resolve(value), controller.signal));
    first.abort(new Error('activity cancelled'));
    await expect(callers[0]).rejects.toThrow('activity cancelled');
    expect(creationSignal?.aborted).toBe(false);
    second.abort(new Error('activity cancelled too'));
    await expect(callers[1]).rejects.toThrow('activity cancelled too');
    expect(creationSignal?.aborted).toBe(true);
    expect(share.size).toBe(0);
    // What the aborted creation still made is disposed of.
    creation.open('made anyway');
    await settle();
    expect(disposed).toEqual(['made anyway']);
  });
});
