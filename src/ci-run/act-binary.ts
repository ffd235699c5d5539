/**
 * Finds nektos/act, the runner of the target's CI jobs, at `.tools/bin/act`, building it there with
 * `go install` on first use (like the Temporal binaries, nothing is downloaded but Go modules through the Go module
 * proxy). When act cannot be had, the result says why in one sentence, and the workflow-run stage is skipped with it.
 */
import { chmod, copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pickEnv, runProcess } from '../process/run-command';
import { sharedRoot } from '../store/postgres-server';
import { withFileLock } from '../util/file-lock';
import { findGo, GO_ENV_NAMES, isExecutable } from '../util/go-toolchain';
import { projectRoot } from '../util/project-root';

export const ACT_MODULE = 'github.com/nektos/act';
/** Pinned: the log format results.ts reads and the flags invoke.ts passes are those of this version. */
export const ACT_VERSION = '0.2.89';
/** Building act compiles a few hundred packages; on a 2-core machine that takes minutes, once. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Longer than a build may take, so a second worker waits for the first instead of taking its lock over. */
const BUILD_LOCK_STALE_MS = BUILD_TIMEOUT_MS + 60_000;
const VERSION_TIMEOUT_MS = 30_000;

export type ActBinary = { available: true; path: string } | { available: false; reason: string };

export interface ResolveActOptions {
  /** The project root whose `.tools/bin` holds act (default: this project's). */
  root?: string;
  /** The go executable; default: `go` on the PATH, then /usr/local/go/bin/go. */
  goPath?: string;
  /** Whether a missing act may be built (default true). */
  install?: boolean;
  log?: (line: string) => void;
}

export function actBinaryPath(root = projectRoot()): string {
  return path.join(root, '.tools', 'bin', 'act');
}

/** The version `act --version` prints ("act version 0.2.89"), or why it could not be read. */
async function actVersion(binary: string): Promise<{ version: string } | { problem: string }> {
  // act refuses to start without HOME, where it looks for its configuration.
  const result = await runProcess([binary, '--version'], { cwd: '/', env: pickEnv(['PATH', 'HOME']), timeoutMs: VERSION_TIMEOUT_MS });
  const output = result.stdout.toString('utf8').trim();
  const version = /^act version (\S+)$/.exec(output)?.[1];
  if (result.exitCode === 0 && version !== undefined) return { version };
  return { problem: result.startError?.message ?? (output || result.stderr.toString('utf8').trim() || `exit code ${result.exitCode ?? result.signal}`) };
}

/**
 * Builds act into a staging folder beside the binary and moves it into place, so a build killed halfway never
 * leaves a broken `act` for the next worker to find.
 */
async function buildAct(go: string, binary: string, log: (line: string) => void): Promise<string | undefined> {
  const staging = await mkdtemp(`${binary}.build-`);
  try {
    log(`building ${ACT_MODULE}@v${ACT_VERSION} into ${binary} with ${go} (first use only; takes minutes)`);
    // CGO off: a static binary that needs no C toolchain to build and nothing of the host's libraries to run.
    const env = { ...pickEnv(GO_ENV_NAMES), GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
    const result = await runProcess([go, 'install', `${ACT_MODULE}@v${ACT_VERSION}`], { cwd: staging, env, timeoutMs: BUILD_TIMEOUT_MS });
    if (result.exitCode !== 0) {
      const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ');
      if (result.timedOut) return `go install took longer than ${BUILD_TIMEOUT_MS / 60_000} minutes`;
      return `go install ${ACT_MODULE}@v${ACT_VERSION} failed: ${result.startError?.message ?? (stderr || `exit code ${result.exitCode ?? result.signal}`)}`;
    }
    await rename(path.join(staging, 'act'), binary);
    return undefined;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function checkedBinary(binary: string): Promise<ActBinary> {
  const found = await actVersion(binary);
  if ('problem' in found) return { available: false, reason: `act at ${binary} does not run (${found.problem}): remove it so it is built again` };
  if (found.version !== ACT_VERSION) return { available: false, reason: `act at ${binary} is version ${found.version}, not ${ACT_VERSION}: remove it so the pinned version is built` };
  return { available: true, path: await reachableBySandbox(binary) };
}

/**
 * As root, the sandbox drops to its own user before bwrap binds act, and that user cannot walk into a project
 * folder only root may read (a 0700 clone): act is then run from a world-readable copy, made once per version.
 */
async function reachableBySandbox(binary: string): Promise<string> {
  if (process.getuid?.() !== 0) return binary;
  const copy = path.join(await sharedRoot(), `act-${ACT_VERSION}`);
  await withFileLock(`${copy}.lock`, async () => {
    if (await isExecutable(copy)) return;
    const partial = `${copy}.partial-${process.pid}`;
    await copyFile(binary, partial);
    await chmod(partial, 0o755);
    await rename(partial, copy);
  }, BUILD_LOCK_STALE_MS);
  return copy;
}

/** act's absolute path, building it on first use; or why it is unavailable. Never throws for a missing go or a failed build. */
export async function resolveActBinary(options: ResolveActOptions = {}): Promise<ActBinary> {
  const binary = actBinaryPath(options.root);
  if (await isExecutable(binary)) return checkedBinary(binary);
  if (options.install === false) return { available: false, reason: `act is not installed at ${binary}` };
  const go = await findGo(options.goPath);
  if (go === undefined) {
    return { available: false, reason: `act is not installed at ${binary} and go, which builds it, was not found (install Go 1.22 or later)` };
  }
  await mkdir(path.dirname(binary), { recursive: true });
  // Two workers (or jest and a worker) finding act missing at once: one builds, the other waits and then finds it.
  const buildProblem = await withFileLock(`${binary}.lock`, async () => ((await isExecutable(binary)) ? undefined : buildAct(go, binary, options.log ?? (() => undefined))), BUILD_LOCK_STALE_MS);
  if (buildProblem !== undefined) return { available: false, reason: `act could not be built: ${buildProblem}` };
  return checkedBinary(binary);
}
