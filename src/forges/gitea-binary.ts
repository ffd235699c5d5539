/**
 * Finds Gitea, the forge the pull-request delivery tests run against, at `.tools/bin/gitea`, building it there from
 * its Go module on first use (nothing is downloaded but Go modules through the Go module proxy). Gitea built without
 * the `bindata` tag reads its `options/`, `templates/` and `public/` folders from disk: a copy of them is kept in
 * `.tools/gitea-<version>/`, so running it needs nothing else. When Gitea cannot be had, the result says why in one
 * sentence, and the tests that need it skip with it.
 */
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { pickEnv, runProcess } from '../process/run-command';
import { withFileLock } from '../util/file-lock';
import { findGo, GO_ENV_NAMES, isExecutable } from '../util/go-toolchain';
import { projectRoot } from '../util/project-root';

export const GITEA_MODULE = 'code.gitea.io/gitea';
/** Pinned: the REST API the Gitea forge adapter is tested against is this version's. */
export const GITEA_VERSION = '1.27.3';
/** What Gitea reads from its static root at run time. */
export const GITEA_RUNTIME_FOLDERS = ['options', 'templates', 'public'] as const;
/** Building Gitea compiles about a thousand packages; on a 2-core machine that takes many minutes, once. */
const BUILD_TIMEOUT_MS = 40 * 60_000;
/** Longer than a build may take, so a second process waits for the first instead of taking its lock over. */
const BUILD_LOCK_STALE_MS = BUILD_TIMEOUT_MS + 60_000;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const VERSION_TIMEOUT_MS = 30_000;

export type GiteaBinary =
  | { available: true; path: string; /** Holds options/, templates/ and public/: Gitea's static root. */ runtimeFolder: string }
  | { available: false; reason: string };

export interface ResolveGiteaOptions {
  /** The project root whose `.tools` holds Gitea (default: this project's). */
  root?: string;
  /** The go executable; default: `go` on the PATH, then /usr/local/go/bin/go. */
  goPath?: string;
  /** Whether a missing Gitea may be built (default true). */
  install?: boolean;
  log?: (line: string) => void;
}

export function giteaBinaryPath(root = projectRoot()): string {
  return path.join(root, '.tools', 'bin', 'gitea');
}

export function giteaRuntimeFolder(root = projectRoot()): string {
  return path.join(root, '.tools', `gitea-${GITEA_VERSION}`);
}

/** The version `gitea --version` prints ("gitea version 1.27.3 built with go1.26.8"), or why it could not be read. */
async function giteaVersion(binary: string): Promise<{ version: string } | { problem: string }> {
  const result = await runProcess([binary, '--version'], { cwd: '/', env: pickEnv(['PATH', 'HOME']), timeoutMs: VERSION_TIMEOUT_MS });
  const output = result.stdout.toString('utf8').trim();
  const version = /^gitea version (\S+)/i.exec(output)?.[1];
  if (result.exitCode === 0 && version !== undefined) return { version };
  return { problem: result.startError?.message ?? (output || result.stderr.toString('utf8').trim() || `exit code ${result.exitCode ?? result.signal}`) };
}

/** The last lines of a failed go command's stderr, or how it failed otherwise. */
function goFailure(result: Awaited<ReturnType<typeof runProcess>>, timeoutMs: number): string {
  if (result.timedOut) return `it took longer than ${timeoutMs / 60_000} minutes`;
  const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-3).join(' ');
  return result.startError?.message ?? (stderr || `exit code ${result.exitCode ?? result.signal}`);
}

const moduleDownloadSchema = z.object({ Dir: z.string().optional(), Error: z.string().optional() });

/** The module cache's (read-only) folder of Gitea's source, downloading it when missing. */
async function downloadSource(go: string, cwd: string, env: Record<string, string>): Promise<{ dir: string } | { problem: string }> {
  const spec = `${GITEA_MODULE}@v${GITEA_VERSION}`;
  const result = await runProcess([go, 'mod', 'download', '-json', spec], { cwd, env, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout.toString('utf8'));
  } catch {
    answer = {};
  }
  const parsed = moduleDownloadSchema.safeParse(answer);
  if (result.exitCode === 0 && parsed.success && parsed.data.Dir !== undefined) return { dir: parsed.data.Dir };
  // go reports a module it cannot fetch in the JSON's Error, not on stderr.
  const reported = parsed.success ? parsed.data.Error : undefined;
  return { problem: `go mod download ${spec} failed: ${reported ?? goFailure(result, DOWNLOAD_TIMEOUT_MS)}` };
}

/** Adds the owner's write permission everywhere under `dir` (the module cache's copies are read-only). */
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const entryPath = path.join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) continue;
    await chmod(entryPath, ((await lstat(entryPath)).mode & 0o7777) | 0o200);
  }
}

/**
 * Builds Gitea and copies its runtime folders into a staging folder, then moves both into place, the binary last:
 * a build killed halfway never leaves a `gitea` for the next process to find without its folders.
 */
async function buildGitea(go: string, binary: string, runtimeFolder: string, log: (line: string) => void): Promise<string | undefined> {
  const staging = await mkdtemp(`${runtimeFolder}.build-`);
  try {
    log(`building ${GITEA_MODULE}@v${GITEA_VERSION} into ${binary} with ${go} (first use only; takes many minutes)`);
    // CGO off: a static binary that needs no C toolchain; Gitea's default SQLite driver (modernc) is pure Go.
    // GOWORK off: a go.work above .tools must not take part.
    const env = { ...pickEnv(GO_ENV_NAMES), CGO_ENABLED: '0', GOWORK: 'off' };
    const source = await downloadSource(go, staging, env);
    if ('problem' in source) return source.problem;
    // `go install module@version` refuses Gitea (its go.mod has replace directives): it is built as the main module
    // of a writable copy instead.
    const sourceCopy = path.join(staging, 'source');
    await cp(source.dir, sourceCopy, { recursive: true });
    await makeWritable(sourceCopy);
    const built = path.join(staging, 'gitea');
    // -X main.Version: a build outside Gitea's Makefile otherwise calls itself "development". -buildvcs=false: the
    // copy sits inside this project's git checkout, whose state is not Gitea's.
    const ldflags = `-s -w -X main.Version=${GITEA_VERSION}`;
    const result = await runProcess([go, 'build', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', built, '.'], { cwd: sourceCopy, env, timeoutMs: BUILD_TIMEOUT_MS });
    if (result.exitCode !== 0) return `go build failed: ${goFailure(result, BUILD_TIMEOUT_MS)}`;
    const runtimeCopy = path.join(staging, 'runtime');
    await mkdir(runtimeCopy);
    for (const folder of GITEA_RUNTIME_FOLDERS) await rename(path.join(sourceCopy, folder), path.join(runtimeCopy, folder));
    // Left by a build killed between the two renames.
    await rm(runtimeFolder, { recursive: true, force: true });
    await rename(runtimeCopy, runtimeFolder);
    await rename(built, binary);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function isFolder(folder: string): Promise<boolean> {
  return (await stat(folder).catch(() => undefined))?.isDirectory() ?? false;
}

async function checkedBinary(binary: string, runtimeFolder: string): Promise<GiteaBinary> {
  const found = await giteaVersion(binary);
  if ('problem' in found) return { available: false, reason: `gitea at ${binary} does not run (${found.problem}): remove it so it is built again` };
  if (found.version !== GITEA_VERSION) return { available: false, reason: `gitea at ${binary} is version ${found.version}, not ${GITEA_VERSION}: remove it so the pinned version is built` };
  for (const folder of GITEA_RUNTIME_FOLDERS) {
    if (!(await isFolder(path.join(runtimeFolder, folder)))) {
      return { available: false, reason: `gitea's ${folder} folder is missing from ${runtimeFolder}: remove ${binary} so both are built again` };
    }
  }
  return { available: true, path: binary, runtimeFolder };
}

/** Gitea's absolute path and runtime folder, building them on first use; or why Gitea is unavailable. Never throws for a missing go or a failed build. */
export async function resolveGiteaBinary(options: ResolveGiteaOptions = {}): Promise<GiteaBinary> {
  const binary = giteaBinaryPath(options.root);
  const runtimeFolder = giteaRuntimeFolder(options.root);
  if (await isExecutable(binary)) return checkedBinary(binary, runtimeFolder);
  if (options.install === false) return { available: false, reason: `gitea is not installed at ${binary}` };
  const go = await findGo(options.goPath);
  if (go === undefined) {
    return { available: false, reason: `gitea is not installed at ${binary} and go, which builds it, was not found (install Go 1.26 or later)` };
  }
  await mkdir(path.dirname(binary), { recursive: true });
  // Two processes (jest and `npm run install:gitea`) finding Gitea missing at once: one builds, the other waits and then finds it.
  const buildProblem = await withFileLock(`${binary}.lock`, async () => ((await isExecutable(binary)) ? undefined : buildGitea(go, binary, runtimeFolder, options.log ?? (() => undefined))), BUILD_LOCK_STALE_MS);
  if (buildProblem !== undefined) return { available: false, reason: `gitea could not be built: ${buildProblem}` };
  return checkedBinary(binary, runtimeFolder);
}
