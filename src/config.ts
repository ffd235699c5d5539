/**
 * Every setting of the service, read once from the environment and validated here. Entry points call
 * loadConfig() at start; an invalid setting is reported as one line naming the variable (exit code 2).
 */
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ForgeCredentialSources } from './forges/credentials';
import { repoUrlProblem } from './git/repo-url';
import './util/validation-messages';

const port = z.coerce.number().int().min(1).max(65535);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = z.string().trim().min(1).optional();
const url = z.string().url();
/** A comma-separated list; blanks are dropped. */
const list = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Waiting lifecycles kept in the worker's memory; README "Worker memory and the workflow cache" has the measurements. */
const DEFAULT_MAX_CACHED_WORKFLOWS = 500;

/** `address/prefix`, IPv4 or IPv6, e.g. `10.0.0.0/8` or `fd00::/8`. */
export function isCidr(text: string): boolean {
  const [address = '', prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
const cidrList = list.pipe(z.array(z.string().refine(isCidr, 'must be CIDR blocks such as 10.0.0.0/8 or fd00::/8')));

/** Variable name -> schema. The README's configuration table documents the same names. */
const settingsSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),

  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('workflow-patch-agent'),
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalText,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalText,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalText,
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  TEMPORAL_CLI_PATH: optionalText,
  TEMPORAL_TEST_SERVER_PATH: optionalText,
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: url.refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL').optional(),

  DATABASE_URL: url.refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL').optional(),
  DATABASE_OWNER_URL: url.refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL').optional(),
  EMBEDDED_PG_PORT: port.default(5433),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_JWKS_URL: url.optional(),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,
  JWT_MAX_LIFETIME_SECONDS: seconds(60, 366 * 24 * 3600).default(24 * 3600),

  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  // The SDK's own default grows with the heap limit (2,000+ workflows on a 4 GiB heap), not with what the host can spare.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .refine((value) => value !== 1, 'must be 0 (no cache) or at least 2')
    .default(DEFAULT_MAX_CACHED_WORKFLOWS),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1000).default(40),
  // A wave of 100 targets must be revertible at once, and a target's tests hold one slot per round: 400 leaves room
  // for rollouts beside the tests of a few hundred targets.
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(400),
  // Each heartbeat is a write on the Temporal server; most activity steps end within a second.
  WORKER_FIRST_HEARTBEAT_MS: z.coerce.number().int().min(0).max(10_000).default(5000),
  RECONCILE_INTERVAL_SECONDS: seconds(5, 3600).default(60),
  // A rollback of a 100-target wave reverts from the repositories its deploys fetched.
  GIT_CACHE_MAX_REPOS: z.coerce.number().int().min(1).max(100_000).default(512),

  ALLOW_LOCAL_REPOS: flag.optional(),
  ALLOW_UNSANDBOXED_COMMANDS: flag.default(false),
  SANDBOX_DIR: optionalText,
  SANDBOX_UID: z.coerce.number().int().min(1).max(2 ** 31 - 1).default(65534),
  SANDBOX_GID: z.coerce.number().int().min(1).max(2 ** 31 - 1).default(65534),
  SANDBOX_MEMORY_MB: z.coerce.number().int().min(64).max(1024 * 1024).default(4096),
  SANDBOX_CPU_SECONDS: seconds(1, 24 * 3600).default(900),
  SANDBOX_MAX_PROCESSES: z.coerce.number().int().min(8).max(1_000_000).default(512),
  SANDBOX_READ_ONLY_PATHS: list.pipe(z.array(z.string().startsWith('/', 'must be absolute paths'))).default([]),

  HEALTH_HEADER_ENV: list.pipe(z.array(z.string().regex(ENV_NAME, 'must be environment variable names'))).default([]),
  HEALTH_ALLOW_CIDRS: cidrList.default([]),
  HEALTH_DENY_CIDRS: cidrList.default([]),

  AUDIT_CHECKPOINT_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: seconds(1, 24 * 3600).default(60),

  // An operator's choice, so a local mirror (a path or file://) is fine here whatever ALLOW_LOCAL_REPOS says.
  ACTIONS_GIT_BASE_URL: z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const problem = repoUrlProblem(value, { allowLocal: true });
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('https://github.com'),
  ACT_ACTION_MIRROR_DIR: optionalText,
  // Both runs of the workflow-run stage share it; it runs inside a test activity that may take 20 minutes in all.
  WORKFLOW_RUN_TIMEOUT_SECONDS: seconds(10, 15 * 60).default(10 * 60),

  AGENT_POLICY_FILE: optionalText,

  FORGE_CREDENTIALS_FILE: optionalText,
  FORGE_CREDENTIALS: optionalText,
  // How often pull requests and commit checks are asked about while the service waits for them.
  FORGE_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
});

export type Settings = z.infer<typeof settingsSchema>;

export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificatePath?: string;
  clientCertPath?: string;
  clientKeyPath?: string;
}

export interface Config {
  api: { host: string; port: number };
  logLevel: Settings['LOG_LEVEL'];
  dataDir: string;
  temporal: {
    /** Undefined: the all-in-one starter runs the embedded dev server. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    tls: TemporalTls | boolean;
    cliPath: string | undefined;
    testServerPath: string | undefined;
    devPort: number;
    uiPort: number;
    /** Base URL of the Web UI that reports link to, without a trailing slash. */
    uiUrl: string;
  };
  database: {
    /** Undefined: the all-in-one starter runs embedded PostgreSQL. The service's own (least-privilege) role. */
    url: string | undefined;
    /** The role that owns the schema and runs migrations; undefined: migrations run as `url`'s role. */
    ownerUrl: string | undefined;
    embeddedPort: number;
    poolSize: number;
  };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** Longest accepted token lifetime (`exp` minus `iat`, or minus now without `iat`). */
    maxLifetimeSeconds: number;
  };
  worker: {
    shutdownGraceSeconds: number;
    /** How often the reconcile schedule looks for patches whose lifecycle run ended without finishing. */
    reconcileIntervalSeconds: number;
    /** Workflow runs kept in memory between their tasks (0: none); a run that is not must replay its history. */
    maxCachedWorkflows: number;
    /** Workflow tasks run at once; at most maxCachedWorkflows unless the cache is off. */
    maxConcurrentWorkflowTasks: number;
    /** Activities (tests, deploys, reverts, health samples) run at once. */
    maxConcurrentActivities: number;
    /** How long an activity works before its first heartbeat (then one every 5 s); 0: at once. */
    firstHeartbeatMs: number;
  };
  repositories: {
    /** Local paths and file:// URLs as repository URLs; undefined: the entry point decides (on only for npm start). */
    allowLocal: boolean | undefined;
    /** Bare repositories a worker keeps for its deploys and reverts (src/git/repo-cache.ts). */
    maxCachedRepos: number;
  };
  sandbox: {
    /** Run commands without bubblewrap when it is missing (development machines only). */
    allowUnsandboxed: boolean;
    /** Where each sandboxed run gets its private writable copy of the checkout. */
    dir: string;
    uid: number;
    gid: number;
    memoryMb: number;
    cpuSeconds: number;
    maxProcesses: number;
    /** Host paths visible read-only inside the sandbox besides the system folders (e.g. /opt/toolchain). */
    readOnlyPaths: string[];
  };
  health: {
    /** Names `${env:NAME}` may use besides the HEALTH_SECRET_ prefix; never the service's own settings. */
    headerEnv: string[];
    /** When set, health check addresses must be inside one of these CIDR blocks. */
    allowCidrs: string[];
    /** Health check addresses inside these CIDR blocks are refused (link-local and metadata always are). */
    denyCidrs: string[];
  };
  audit: {
    /** HMAC key of the audit checkpoints; undefined: no checkpoints (the starter generates one). */
    checkpointKey: string | undefined;
    checkpointIntervalSeconds: number;
  };
  actions: {
    /** Where `git ls-remote` finds action repositories (`<base>/<owner>/<repo>`) to pin `uses:` refs to SHAs. */
    gitBaseUrl: string;
  };
  ciRun: {
    /** Local copies of remote actions for act, as `<dir>/<owner>/<repo>@<ref>/`; undefined: only local actions run. */
    actionMirrorDir: string | undefined;
    /** Wall-clock budget of the workflow-run stage on one target: the runs without and with the patch together. */
    timeoutMs: number;
  };
  agent: {
    /** A YAML file of agent policies, created or updated by name when the API starts; undefined: none. */
    policyFile: string | undefined;
  };
  forges: {
    /** Where the named forge credentials are (src/forges/credentials.ts); read by loadForgeCredentials. */
    credentials: ForgeCredentialSources;
    pollIntervalMs: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid setting ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the settings. Empty variables count as unset. Throws ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const present = Object.fromEntries(
    Object.keys(settingsSchema.shape).flatMap((name) => {
      const value = env[name];
      return value === undefined || value.trim() === '' ? [] : [[name, value]];
    }),
  );
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(variable, issue?.message ?? 'invalid value');
  }
  const s = parsed.data;
  if (s.TEMPORAL_TLS_CLIENT_CERT_PATH && !s.TEMPORAL_TLS_CLIENT_KEY_PATH) {
    throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'required when TEMPORAL_TLS_CLIENT_CERT_PATH is set');
  }
  if (s.JWT_SECRET && s.JWT_JWKS_URL) {
    throw new ConfigError('JWT_JWKS_URL', 'set either JWT_SECRET or JWT_JWKS_URL, not both');
  }
  if (s.WORKER_MAX_CACHED_WORKFLOWS > 0 && s.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS > s.WORKER_MAX_CACHED_WORKFLOWS) {
    // A task in progress holds its run in the cache, so the SDK would quietly lower the task count to the cache size.
    throw new ConfigError('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', `must be at most WORKER_MAX_CACHED_WORKFLOWS (${s.WORKER_MAX_CACHED_WORKFLOWS}) unless the cache is off (0)`);
  }
  const ownSetting = s.HEALTH_HEADER_ENV.find((name) => name in settingsSchema.shape);
  if (ownSetting) throw new ConfigError('HEALTH_HEADER_ENV', `${ownSetting} is a setting of this service and can never be sent in a health check`);
  const tlsFiles: TemporalTls = {
    ...(s.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: s.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(s.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? { serverRootCACertificatePath: s.TEMPORAL_TLS_SERVER_CA_CERT_PATH } : {}),
    ...(s.TEMPORAL_TLS_CLIENT_CERT_PATH ? { clientCertPath: s.TEMPORAL_TLS_CLIENT_CERT_PATH } : {}),
    ...(s.TEMPORAL_TLS_CLIENT_KEY_PATH ? { clientKeyPath: s.TEMPORAL_TLS_CLIENT_KEY_PATH } : {}),
  };
  // An API key implies TLS (Temporal Cloud), unless TLS is explicitly turned off.
  const tlsWanted = s.TEMPORAL_TLS ?? (Object.keys(tlsFiles).length > 0 || s.TEMPORAL_API_KEY !== undefined);
  return {
    api: { host: s.HOST, port: s.PORT },
    logLevel: s.LOG_LEVEL,
    dataDir: path.resolve(cwd, s.DATA_DIR),
    temporal: {
      address: s.TEMPORAL_ADDRESS,
      namespace: s.TEMPORAL_NAMESPACE,
      taskQueue: s.TEMPORAL_TASK_QUEUE,
      apiKey: s.TEMPORAL_API_KEY,
      tls: tlsWanted ? (Object.keys(tlsFiles).length > 0 ? tlsFiles : true) : false,
      cliPath: s.TEMPORAL_CLI_PATH,
      testServerPath: s.TEMPORAL_TEST_SERVER_PATH,
      devPort: s.TEMPORAL_DEV_PORT,
      uiPort: s.TEMPORAL_UI_PORT,
      // Unset: the embedded dev server's UI, where `npm start` serves it.
      uiUrl: (s.TEMPORAL_UI_URL ?? `http://127.0.0.1:${s.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    },
    database: { url: s.DATABASE_URL, ownerUrl: s.DATABASE_OWNER_URL, embeddedPort: s.EMBEDDED_PG_PORT, poolSize: s.DATABASE_POOL_SIZE },
    auth: {
      jwtSecret: s.JWT_SECRET,
      jwksUrl: s.JWT_JWKS_URL,
      issuer: s.JWT_ISSUER,
      audience: s.JWT_AUDIENCE,
      maxLifetimeSeconds: s.JWT_MAX_LIFETIME_SECONDS,
    },
    worker: {
      shutdownGraceSeconds: s.WORKER_SHUTDOWN_GRACE_SECONDS,
      reconcileIntervalSeconds: s.RECONCILE_INTERVAL_SECONDS,
      maxCachedWorkflows: s.WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: s.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: s.WORKER_MAX_CONCURRENT_ACTIVITIES,
      firstHeartbeatMs: s.WORKER_FIRST_HEARTBEAT_MS,
    },
    repositories: { allowLocal: s.ALLOW_LOCAL_REPOS, maxCachedRepos: s.GIT_CACHE_MAX_REPOS },
    sandbox: {
      allowUnsandboxed: s.ALLOW_UNSANDBOXED_COMMANDS,
      dir: path.resolve(cwd, s.SANDBOX_DIR ?? path.join(os.tmpdir(), 'wpa-sandbox')),
      uid: s.SANDBOX_UID,
      gid: s.SANDBOX_GID,
      memoryMb: s.SANDBOX_MEMORY_MB,
      cpuSeconds: s.SANDBOX_CPU_SECONDS,
      maxProcesses: s.SANDBOX_MAX_PROCESSES,
      readOnlyPaths: s.SANDBOX_READ_ONLY_PATHS,
    },
    health: { headerEnv: s.HEALTH_HEADER_ENV, allowCidrs: s.HEALTH_ALLOW_CIDRS, denyCidrs: s.HEALTH_DENY_CIDRS },
    audit: { checkpointKey: s.AUDIT_CHECKPOINT_KEY, checkpointIntervalSeconds: s.AUDIT_CHECKPOINT_INTERVAL_SECONDS },
    actions: { gitBaseUrl: s.ACTIONS_GIT_BASE_URL },
    ciRun: {
      actionMirrorDir: s.ACT_ACTION_MIRROR_DIR === undefined ? undefined : path.resolve(cwd, s.ACT_ACTION_MIRROR_DIR),
      timeoutMs: s.WORKFLOW_RUN_TIMEOUT_SECONDS * 1000,
    },
    agent: { policyFile: s.AGENT_POLICY_FILE === undefined ? undefined : path.resolve(cwd, s.AGENT_POLICY_FILE) },
    forges: {
      credentials: { file: s.FORGE_CREDENTIALS_FILE === undefined ? undefined : path.resolve(cwd, s.FORGE_CREDENTIALS_FILE), inline: s.FORGE_CREDENTIALS },
      pollIntervalMs: s.FORGE_POLL_INTERVAL_MS,
    },
  };
}

/**
 * Where git keeps its repositories and scratch folders: one folder per data folder, so the API and the worker of
 * one process share its repository cache (a patch's tests start from the fetch its creation made).
 */
export function gitWorkRoot(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'work');
}

/** Whether local paths and file:// URLs are accepted as repositories: off unless the setting or the entry point says so. */
export function allowsLocalRepos(config: Pick<Config, 'repositories'>): boolean {
  return config.repositories.allowLocal ?? false;
}

/** The documented variables, for the README table test. */
export const settingNames: readonly string[] = Object.keys(settingsSchema.shape);
