/**
 * A real Gitea for the forge tests: a private work path in the temp folder with an SQLite database (WAL: a third of the
 * start-up time of the default journal on a disk), listening on loopback only, with an admin account and token; helpers to act as other people (accounts, repositories, branch
 * protection, commit statuses, pushes). One server per test file (useGiteaServer); the tests skip with the reason
 * where Gitea cannot be built (itWithGitea).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ForgeCredential } from '../../src/forges/credentials';
import type { RepositoryName } from '../../src/forges/forge';
import { GITEA_RUNTIME_FOLDERS, resolveGiteaBinary } from '../../src/forges/gitea-binary';
import { pickEnv, runProcess } from '../../src/process/run-command';
import { freePort } from '../../src/util/free-port';
import { writeFiles } from './ci-run-fixtures';
import { itWhenAvailable } from './tool-tests';

export interface GiteaPerson {
  login: string;
  password: string;
  /** An access token with every scope. */
  token: string;
}

export type CommitStatusState = 'pending' | 'success' | 'error' | 'failure' | 'warning' | 'skipped';

export interface GiteaServer {
  /** The server root, http://127.0.0.1:PORT. */
  url: string;
  admin: GiteaPerson;
  /** How long starting took (work path, web server with its database ready, admin and token), for the record. */
  startupMs: number;
  /** A `gitea` token credential for `person` (default: the admin) on this server. */
  credential(person?: GiteaPerson, name?: string): ForgeCredential;
  createUser(login: string): Promise<GiteaPerson>;
  /** A new access token of `person` with `scopes` (Gitea's names: all, read:user, write:repository, ...). */
  createToken(person: Pick<GiteaPerson, 'login' | 'password'>, scopes?: readonly string[]): Promise<string>;
  /** A public repository of `owner` whose `main` holds `files` in one commit, pushed over HTTP with owner's token. */
  createRepository(owner: GiteaPerson, name: string, files: Record<string, string>): Promise<{ repository: RepositoryName; checkout: string; headSha: string }>;
  addCollaborator(repository: RepositoryName, person: GiteaPerson, permission: 'read' | 'write' | 'admin'): Promise<void>;
  /** Protects `branch` from direct pushes by anyone, requiring the given status contexts (none: no status check). */
  protectBranch(repository: RepositoryName, branch: string, requiredContexts?: readonly string[]): Promise<void>;
  postCommitStatus(repository: RepositoryName, sha: string, context: string, state: CommitStatusState, description?: string): Promise<void>;
  closePullRequest(repository: RepositoryName, number: number, as: GiteaPerson): Promise<void>;
  /** `git push` from `checkout` to the repository with `person`'s login and token as HTTP basic credentials. */
  pushAs(person: GiteaPerson, repository: RepositoryName, checkout: string, ...refspecs: string[]): Promise<void>;
  /** Calls the API as `person` (default: the admin); throws unless the answer is 2xx. */
  api(method: string, apiPath: string, body?: unknown, person?: GiteaPerson): Promise<unknown>;
  stop(): Promise<void>;
}

const ADMIN_LOGIN = 'wpa-admin';
const STARTUP_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** A port taken between freePort() and Gitea's bind: start again on another one, this many times. */
const PORT_ATTEMPTS = 3;

function appIni(workPath: string, port: number): string {
  const secret = () => randomBytes(32).toString('hex');
  const data = path.join(workPath, 'data');
  return `APP_NAME = wpa-test
RUN_MODE = prod
RUN_USER = ${os.userInfo().username}
WORK_PATH = ${workPath}
; The tests run as root in containers.
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = ${port}
ROOT_URL = http://127.0.0.1:${port}/
DOMAIN = 127.0.0.1
APP_DATA_PATH = ${data}
STATIC_ROOT_PATH = ${workPath}
DISABLE_SSH = true
START_SSH_SERVER = false
OFFLINE_MODE = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = ${path.join(data, 'gitea.db')}
SQLITE_JOURNAL_MODE = WAL

[repository]
ROOT = ${path.join(workPath, 'repositories')}
DEFAULT_BRANCH = main

[security]
INSTALL_LOCK = true
SECRET_KEY = ${secret()}
INTERNAL_TOKEN = ${secret()}

[service]
DISABLE_REGISTRATION = true
DEFAULT_KEEP_EMAIL_PRIVATE = true
NO_REPLY_ADDRESS = noreply.invalid
ENABLE_NOTIFY_MAIL = false

[mailer]
ENABLED = false

[oauth2]
; Enabled, Gitea would generate a JWT secret and write it into app.ini.
ENABLED = false

[actions]
ENABLED = false

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[api]
; Small pages: a handful of pull requests, labels or statuses already take the adapter through several.
MAX_RESPONSE_ITEMS = 5
DEFAULT_PAGING_NUM = 5

[queue]
; In memory: a pull request's mergeability is checked without a disk queue's delay.
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[log]
MODE = console
LEVEL = warn
`;
}

function basicAuth(login: string, secret: string): string {
  return `Basic ${Buffer.from(`${login}:${secret}`).toString('base64')}`;
}

/** Signals the process group led by `pid`; a group that is gone already is no error. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Stops a process group: SIGTERM, then SIGKILL when it is still there after the grace period. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
  if (!stopped) {
    signalGroup(pid, 'SIGKILL');
    await exited;
  }
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-5).join(' | ');
}

/** Starts Gitea's web server on a fresh free port; undefined when the port was taken meanwhile. */
async function startWeb(binary: string, env: Record<string, string>, workPath: string, configFile: string, logFile: string): Promise<{ child: ChildProcess; url: string } | undefined> {
  const port = await freePort();
  await writeFile(configFile, appIni(workPath, port), { mode: 0o600 });
  const log = openSync(logFile, 'w');
  const child = spawn(binary, ['web', '--config', configFile, '--work-path', workPath], { cwd: workPath, env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = await logTail(logFile);
      if (/address already in use/i.test(tail)) return undefined;
      throw new Error(`gitea web exited (${child.exitCode ?? child.signalCode}) before it was ready: ${tail}`);
    }
    const ready = await fetch(`${url}/api/healthz`, { signal: AbortSignal.timeout(1_000) }).then((response) => response.ok, () => false);
    if (ready) return { child, url };
    await delay(50);
  }
  await stopGroup(child);
  throw new Error(`gitea web was not ready within ${STARTUP_TIMEOUT_MS / 1000} s: ${await logTail(logFile)}`);
}

async function giteaCommand(binary: string, env: Record<string, string>, workPath: string, configFile: string, ...args: string[]): Promise<void> {
  const result = await runProcess([binary, ...args, '--config', configFile, '--work-path', workPath], { cwd: workPath, env, timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new Error(`gitea ${args[0] ?? ''} failed (${result.exitCode ?? result.signal}): ${result.stderr.toString('utf8').trim() || result.stdout.toString('utf8').trim()}`);
  }
}

export async function startGiteaServer(binary: string, runtimeFolder: string): Promise<GiteaServer> {
  const started = performance.now();
  const workPath = await mkdtemp(path.join(os.tmpdir(), 'wpa-gitea-'));
  await chmod(workPath, 0o700);
  let child: ChildProcess | undefined;
  try {
    for (const folder of GITEA_RUNTIME_FOLDERS) await symlink(path.join(runtimeFolder, folder), path.join(workPath, folder));
    const configFile = path.join(workPath, 'custom', 'conf', 'app.ini');
    await mkdir(path.dirname(configFile), { recursive: true });
    // HOME: Gitea and the git it runs keep their configuration there; nothing of the machine's.
    const env = { ...pickEnv(['PATH', 'LANG', 'TZ']), HOME: workPath, USER: os.userInfo().username, GITEA_WORK_DIR: workPath };
    // `web` creates the database itself: a separate `gitea migrate` first costs a second start of Gitea.
    let web: { child: ChildProcess; url: string } | undefined;
    for (let attempt = 0; attempt < PORT_ATTEMPTS && web === undefined; attempt += 1) {
      web = await startWeb(binary, env, workPath, configFile, path.join(workPath, 'web.log'));
    }
    if (web === undefined) throw new Error(`gitea web found its port taken ${PORT_ATTEMPTS} times`);
    child = web.child;
    const adminPassword = randomBytes(16).toString('hex');
    await giteaCommand(binary, env, workPath, configFile, 'admin', 'user', 'create', '--admin', '--username', ADMIN_LOGIN, '--password', adminPassword, '--email', `${ADMIN_LOGIN}@example.invalid`, '--must-change-password=false');
    const server = serverApi(web.url, workPath, web.child);
    server.admin = { login: ADMIN_LOGIN, password: adminPassword, token: await server.createToken({ login: ADMIN_LOGIN, password: adminPassword }) };
    server.startupMs = Math.round(performance.now() - started);
    return server;
  } catch (error) {
    if (child !== undefined) await stopGroup(child);
    await rm(workPath, { recursive: true, force: true });
    throw error;
  }
}

function serverApi(url: string, workPath: string, child: ChildProcess): GiteaServer {
  let tokens = 0;

  async function call(method: string, apiPath: string, authorization: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${url}/api/v1${apiPath}`, {
      method,
      headers: { Authorization: authorization, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  /**
   * Gitea marks a repository filled after its first push in the background; until then some endpoints fail (GET
   * /branches/{name} answers 500: a nil git repository).
   */
  async function untilFilled(repository: RepositoryName): Promise<void> {
    const deadline = Date.now() + COMMAND_TIMEOUT_MS;
    while (((await server.api('GET', repoPath(repository))) as { empty: boolean }).empty) {
      if (Date.now() > deadline) throw new Error(`${repository.owner}/${repository.name} is still empty after its first push`);
      await delay(50);
    }
  }

  const server = {
    url,
    admin: { login: '', password: '', token: '' },
    startupMs: 0,

    async createToken(person: Pick<GiteaPerson, 'login' | 'password'>, scopes: readonly string[] = ['all']): Promise<string> {
      tokens += 1;
      // Gitea creates tokens only for a password login.
      const created = (await call('POST', `/users/${encodeURIComponent(person.login)}/tokens`, basicAuth(person.login, person.password), { name: `test-${tokens}`, scopes })) as { sha1: string };
      return created.sha1;
    },

    api(method: string, apiPath: string, body?: unknown, person?: GiteaPerson): Promise<unknown> {
      return call(method, apiPath, `token ${(person ?? server.admin).token}`, body);
    },

    credential(person?: GiteaPerson, name = 'gitea-test'): ForgeCredential {
      return new ForgeCredential(name, 'gitea', url, `${url}/`, { kind: 'token', token: (person ?? server.admin).token });
    },

    async createUser(login: string): Promise<GiteaPerson> {
      const password = randomBytes(16).toString('hex');
      await server.api('POST', '/admin/users', { username: login, password, email: `${login}@example.invalid`, must_change_password: false });
      return { login, password, token: await server.createToken({ login, password }) };
    },

    async createRepository(owner: GiteaPerson, name: string, files: Record<string, string>) {
      await server.api('POST', '/user/repos', { name, default_branch: 'main', auto_init: false }, owner);
      const repository = { owner: owner.login, name };
      const checkout = await mkdtemp(path.join(workPath, 'checkout-'));
      writeFiles(checkout, files);
      await git(checkout, {}, 'init', '-q', '-b', 'main');
      await git(checkout, {}, 'add', '-A');
      await git(checkout, {}, 'commit', '-qm', 'initial commit');
      await server.pushAs(owner, repository, checkout, 'main');
      await untilFilled(repository);
      return { repository, checkout, headSha: (await git(checkout, {}, 'rev-parse', 'HEAD')).trim() };
    },

    async addCollaborator(repository: RepositoryName, person: GiteaPerson, permission: 'read' | 'write' | 'admin'): Promise<void> {
      await server.api('PUT', `${repoPath(repository)}/collaborators/${encodeURIComponent(person.login)}`, { permission });
    },

    async protectBranch(repository: RepositoryName, branch: string, requiredContexts: readonly string[] = []): Promise<void> {
      await server.api('POST', `${repoPath(repository)}/branch_protections`, {
        rule_name: branch,
        enable_push: false,
        enable_status_check: requiredContexts.length > 0,
        status_check_contexts: requiredContexts,
      });
    },

    async postCommitStatus(repository: RepositoryName, sha: string, context: string, state: CommitStatusState, description = `${context} is ${state}`): Promise<void> {
      await server.api('POST', `${repoPath(repository)}/statuses/${sha}`, { context, state, description, target_url: `${url}/ci/${encodeURIComponent(context)}` });
    },

    async closePullRequest(repository: RepositoryName, number: number, as: GiteaPerson): Promise<void> {
      await server.api('PATCH', `${repoPath(repository)}/pulls/${number}`, { state: 'closed' }, as);
    },

    async pushAs(person: GiteaPerson, repository: RepositoryName, checkout: string, ...refspecs: string[]): Promise<void> {
      const remote = `${url}/${repository.owner}/${repository.name}.git`;
      // The credential goes in a header set through the environment, not in the URL or argv.
      await git(checkout, { [`http.${url}/.extraHeader`]: `Authorization: ${basicAuth(person.login, person.token)}` }, 'push', '-q', remote, ...refspecs);
    },

    async stop(): Promise<void> {
      await stopGroup(child);
      await rm(workPath, { recursive: true, force: true });
    },
  };
  return server;
}

function repoPath(repository: RepositoryName): string {
  return `/repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.name)}`;
}

/** git in `dir` as a test author, with `config` given through the environment. */
async function git(dir: string, config: Record<string, string>, ...args: string[]): Promise<string> {
  const entries = Object.entries(config);
  const env: Record<string, string> = {
    ...pickEnv(['PATH', 'HOME']),
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
    GIT_CONFIG_COUNT: String(entries.length),
  };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  const result = await runProcess(['git', '-C', dir, ...args], { cwd: dir, env, timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr.toString('utf8').trim()}`);
  return result.stdout.toString('utf8');
}

/**
 * One Gitea for the test file: started before its tests, stopped after them. `unavailable()` says why Gitea is
 * missing (undefined: it runs); `server()` is for tests that checked it.
 */
export function useGiteaServer(): { server: () => GiteaServer; unavailable: () => string | undefined } {
  let server: GiteaServer | undefined;
  let reason: string | undefined = 'Gitea was not started (beforeAll did not run)';
  beforeAll(async () => {
    // Built by jest's global setup when missing: a test never waits for a build.
    const gitea = await resolveGiteaBinary({ install: false });
    if (!gitea.available) {
      reason = gitea.reason;
      return;
    }
    server = await startGiteaServer(gitea.path, gitea.runtimeFolder);
    reason = undefined;
    console.log(`gitea ${server.url} started in ${server.startupMs} ms`);
  }, STARTUP_TIMEOUT_MS * 2);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    server: () => {
      if (server === undefined) throw new Error(`no Gitea: ${reason ?? 'not started'}`);
      return server;
    },
    unavailable: () => reason,
  };
}

/** A test that skips where Gitea cannot be built (see itWhenAvailable). */
export function itWithGitea(name: string, unavailable: () => string | undefined, test: () => void | Promise<void>, timeoutMs?: number): void {
  itWhenAvailable('gitea', name, unavailable, test, timeoutMs);
}
