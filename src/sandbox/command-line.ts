/**
 * The command line that runs one user-configured argv inside bubblewrap: what the command sees (file system,
 * environment, network), as whom it runs and its resource limits. Pure, so the exact line can be tested and shown.
 */
import type { Config } from '../config';
import type { SandboxSettings } from '../domain/types';

/** Where the command's private copy of the checkout appears inside the sandbox; its working directory by default. */
export const WORKSPACE_PATH = '/workspace';
/** HOME inside the sandbox: on the private /tmp, so caches written there never dirty the checkout copy. */
const SANDBOX_HOME = '/tmp/home';
/** PATH inside the sandbox, and where the worker looks for bwrap, prlimit and setpriv. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/**
 * Open files per process. The usual soft limit (1024) is tight for test runners and bundlers; capping the hard
 * limit too (often 1M on servers) bounds the kernel memory one command can pin through open files.
 */
const MAX_OPEN_FILES = 4096;
/** Largest file a command may write (RLIMIT_FSIZE, SIGXFSZ beyond it): one runaway log or dump cannot fill a disk. */
const MAX_FILE_BYTES = 1024 ** 3;
const MIB = 1024 ** 2;

/** The worker's sandbox settings (config.sandbox), plus which bubblewrap runs the commands. */
export interface SandboxConfig extends Readonly<Config['sandbox']> {
  /** The bubblewrap executable: a path, or a name looked up on the system PATH (default `bwrap`). */
  bwrapPath?: string;
}

/** A top-level system folder as the host has it: a real folder (bound read-only) or a merged-/usr symlink. */
export type SystemFolder = { path: string; kind: 'directory' } | { path: string; kind: 'symlink'; target: string };

/** Absolute paths of the programs that set up the sandbox. */
export interface SandboxTools {
  bwrap: string;
  /** Runs inside the sandbox, so it must live in a system folder (util-linux: /usr/bin/prlimit). */
  prlimit: string;
  /**
   * Set when the worker is root: it first becomes config.uid/gid, so bwrap runs unprivileged, in a user namespace,
   * and the kernel enforces RLIMIT_NPROC (it exempts uid 0 of the initial user namespace).
   */
  setpriv?: string;
}

export interface SandboxLaunch {
  tools: SandboxTools;
  systemFolders: readonly SystemFolder[];
  /** The run's private directory on the host (the checkout copy), bound writable at WORKSPACE_PATH. */
  runDir: string;
  settings: SandboxSettings;
  config: SandboxConfig;
  /** Host paths this run alone sees read-only, at the same place (e.g. the act binary and the action mirror). */
  runReadOnlyPaths?: readonly string[];
  /** Start in the empty HOME instead of the checkout copy (see RunSandboxedOptions.startOutsideCheckout). */
  startOutsideCheckout?: boolean;
}

function fileSystem(launch: SandboxLaunch): string[] {
  const { config, settings } = launch;
  const system = launch.systemFolders.flatMap((folder) =>
    folder.kind === 'directory' ? ['--ro-bind', folder.path, folder.path] : ['--symlink', folder.target, folder.path],
  );
  return [
    ...system,
    ...config.readOnlyPaths.flatMap((readOnlyPath) => ['--ro-bind', readOnlyPath, readOnlyPath]),
    // With the network shared, /etc/resolv.conf may point into systemd-resolved's folder.
    ...(settings.network ? ['--ro-bind-try', '/run/systemd/resolve', '/run/systemd/resolve'] : []),
    '--proc', '/proc',
    '--dev', '/dev',
    // A private /tmp in memory, bounded like the data memory so it cannot be used to bypass that limit.
    '--size', String(config.memoryMb * MIB), '--tmpfs', '/tmp',
    '--dir', SANDBOX_HOME,
    // After the /tmp mount, so a run's paths under the host's /tmp (an event file, a test's mirror) are not hidden by it.
    ...(launch.runReadOnlyPaths ?? []).flatMap((readOnlyPath) => ['--ro-bind', readOnlyPath, readOnlyPath]),
    '--bind', launch.runDir, WORKSPACE_PATH,
    '--chdir', launch.startOutsideCheckout === true ? SANDBOX_HOME : WORKSPACE_PATH,
    // bwrap's root is a writable tmpfs; read-only, the checkout copy and /tmp are the only writable places.
    '--remount-ro', '/',
  ];
}

/** PATH, HOME, TMPDIR and LANG, then the target's declared variables (which may replace them, e.g. PATH). */
function environment(settings: SandboxSettings): string[] {
  const variables: Record<string, string> = { PATH: SANDBOX_PATH, HOME: SANDBOX_HOME, TMPDIR: '/tmp', LANG: 'C.UTF-8', ...settings.env };
  return ['--clearenv', ...Object.entries(variables).flatMap(([name, value]) => ['--setenv', name, value])];
}

function limits(prlimit: string, config: SandboxConfig): string[] {
  return [
    prlimit,
    // RLIMIT_DATA, not RLIMIT_AS: node and the JVM reserve far more address space than they use.
    `--data=${config.memoryMb * MIB}`,
    // SIGXCPU at the soft limit says why the command ended; the hard limit a second later kills one that ignores it.
    `--cpu=${config.cpuSeconds}:${config.cpuSeconds + 1}`,
    `--nproc=${config.maxProcesses}`,
    `--nofile=${MAX_OPEN_FILES}`,
    `--fsize=${MAX_FILE_BYTES}`,
    // Core dumps of crashing tests would only fill the checkout copy.
    '--core=0',
    '--',
  ];
}

/** The complete argv: [setpriv ...] bwrap ... -- prlimit ... -- <argv>. */
export function sandboxCommandLine(argv: readonly string[], launch: SandboxLaunch): string[] {
  const { config, tools } = launch;
  const becomeSandboxUser = tools.setpriv === undefined
    ? []
    : [tools.setpriv, `--reuid=${config.uid}`, `--regid=${config.gid}`, '--clear-groups', '--inh-caps=-all', '--'];
  return [
    ...becomeSandboxUser,
    tools.bwrap,
    '--die-with-parent',
    // Its own session: the command cannot reach the worker's terminal (TIOCSTI) or signal its process group.
    '--new-session',
    '--unshare-all',
    ...(launch.settings.network ? ['--share-net'] : []),
    '--unshare-user', '--uid', String(config.uid), '--gid', String(config.gid),
    ...fileSystem(launch),
    ...environment(launch.settings),
    '--',
    ...limits(tools.prlimit, config),
    ...argv,
  ];
}
