/**
 * Public API of the sandbox domain module: the one place that decides what a user-configured command may see and
 * use. Callers pass an argv, the checkout and the target's sandbox settings; see run-sandboxed.ts.
 */
export type { SandboxConfig } from './command-line';
export { type Isolation, runSandboxed, type RunSandboxedOptions, type SandboxedArgv, type SandboxedResult, SandboxUnavailableError } from './run-sandboxed';
