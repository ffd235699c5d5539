/**
 * Runs the git CLI with a controlled environment: no prompts, no user/system config, no hooks, no automatic gc
 * (which would daemonize into a folder we are about to delete), a fixed identity, English messages for the few
 * places that classify git's stderr, and credentials redacted from every error.
 */
import { pickEnv, type ProcessResult, runProcess } from '../process/run-command';
import { CommandStartError, GitCommandError, GitTimeoutError, OperationAbortedError } from './errors';
import { allowedGitProtocols, type RepoUrlPolicy } from './repo-url';
import { redactCredentials } from './validate';

export interface GitIdentity {
  name: string;
  email: string;
}

/** Options every git operation of this module accepts. */
export interface GitOptions {
  /** Author and committer of the commits this module creates. */
  identity?: GitIdentity;
  /** Time limit of each git process, default 120 s; the process group is killed when it passes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How many commits of the branch are searched for trailers, default 500. */
  historyDepth?: number;
  /** Extra git config (e.g. `http.extraHeader` for auth), passed through the environment, never argv. */
  config?: Readonly<Record<string, string>>;
  /** Extra environment variables for git (e.g. GIT_SSH_COMMAND). */
  env?: Readonly<Record<string, string>>;
  /** Which repository URLs are accepted; default remote ones only (the service passes ALLOW_LOCAL_REPOS). */
  repoUrlPolicy?: RepoUrlPolicy;
}

const REMOTE_ONLY: RepoUrlPolicy = { allowLocal: false };

/** The repository URL policy of an operation. */
export function repoUrlPolicyOf(options: GitOptions): RepoUrlPolicy {
  return options.repoUrlPolicy ?? REMOTE_ONLY;
}

export const DEFAULT_IDENTITY: GitIdentity = { name: 'workflow-patch-agent', email: 'workflow-patch-agent@noreply.invalid' };
export const DEFAULT_GIT_TIMEOUT_MS = 120_000;
export const DEFAULT_HISTORY_DEPTH = 500;

const MAX_GIT_OUTPUT_BYTES = 256 * 1024 * 1024;
const STDERR_TAIL_CHARS = 2_000;

/** Inherited from the worker: what git needs to find programs, reach proxies and talk to an ssh agent. */
const PASSTHROUGH_ENV_KEYS = [
  'PATH', 'HOME', 'TMPDIR', 'SSH_AUTH_SOCK',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
];

const FIXED_CONFIG: Readonly<Record<string, string>> = {
  'gc.auto': '0',
  'maintenance.auto': 'false',
  'core.hooksPath': '/dev/null',
  'core.autocrlf': 'false',
  'core.fsmonitor': 'false',
  // Our clones are thrown away: reflogs would only be more files to create and delete.
  'core.logAllRefUpdates': 'false',
  'commit.gpgSign': 'false',
  'advice.detachedHead': 'false',
  'init.defaultBranch': 'main',
  'protocol.ext.allow': 'never',
};

function gitEnv(options: GitOptions): NodeJS.ProcessEnv {
  const identity = options.identity ?? DEFAULT_IDENTITY;
  const config = Object.entries({ ...FIXED_CONFIG, ...options.config });
  const env: NodeJS.ProcessEnv = {
    ...pickEnv(PASSTHROUGH_ENV_KEYS),
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
    ...options.env,
    // git's own second line of defence: protocols outside the policy are refused for every URL, submodules included.
    GIT_ALLOW_PROTOCOL: allowedGitProtocols(repoUrlPolicyOf(options)),
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

export interface GitRun {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitRunExtra {
  input?: string | Buffer;
  /** Exit codes that are answers rather than failures (e.g. 1 for `git diff --quiet`). */
  okExitCodes?: readonly number[];
}

/** Runs git once; a start failure or an abort becomes the matching GitError. */
async function spawnGit(cwd: string, args: readonly string[], options: GitOptions, input: string | Buffer | undefined): Promise<ProcessResult> {
  let result: ProcessResult;
  try {
    result = await runProcess(['git', ...args], {
      cwd,
      env: gitEnv(options),
      timeoutMs: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS,
      signal: options.signal,
      input,
      maxOutputBytes: MAX_GIT_OUTPUT_BYTES,
      killGraceMs: 0,
    });
  } catch (error) {
    if (options.signal?.aborted) throw new OperationAbortedError(options.signal.reason);
    throw error;
  }
  if (result.startError) throw new CommandStartError('git', result.startError);
  return result;
}

/**
 * Runs `git args` in `cwd`; throws GitCommandError / GitTimeoutError unless the exit code is acceptable,
 * CommandStartError when git cannot start and OperationAbortedError when `options.signal` fires.
 */
export async function runGit(cwd: string, args: readonly string[], options: GitOptions, extra: GitRunExtra = {}): Promise<GitRun> {
  const result = await spawnGit(cwd, args, options, extra.input);
  const argv = args.map(redactCredentials);
  const stderr = redactCredentials(result.stderr.toString('utf8'));
  const stderrTail = stderr.slice(-STDERR_TAIL_CHARS);
  if (result.timedOut) throw new GitTimeoutError(argv, stderrTail, options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS);
  if (result.stdoutTruncated) {
    throw new GitCommandError(argv, result.exitCode, stderrTail, `git ${argv.join(' ')} wrote more than ${MAX_GIT_OUTPUT_BYTES} bytes`);
  }
  const exitCode = result.exitCode ?? -1;
  if (!(extra.okExitCodes ?? [0]).includes(exitCode)) throw new GitCommandError(argv, result.exitCode, stderrTail);
  return { exitCode, stdout: result.stdout, stderr };
}

/** runGit returning stdout as trimmed text. */
export async function gitText(cwd: string, args: readonly string[], options: GitOptions, extra?: GitRunExtra): Promise<string> {
  return (await runGit(cwd, args, options, extra)).stdout.toString('utf8').trim();
}
