/**
 * Tests that need a tool built on first use (act, Gitea) skip, with the reason on the console, rather than fail
 * where the tool cannot be had. `unavailable` says why it is missing when the test runs (undefined: it is there).
 */
export function itWhenAvailable(tool: string, name: string, unavailable: () => string | undefined, test: () => void | Promise<void>, timeoutMs?: number): void {
  it(name, async () => {
    const reason = unavailable();
    if (reason !== undefined) {
      console.warn(`SKIPPED (${tool} unavailable: ${reason}): ${name}`);
      return;
    }
    await test();
  }, timeoutMs);
}
