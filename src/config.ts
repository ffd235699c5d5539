/**
 * Every setting of the service, read once from the environment and validated here. Entry points call
 * loadConfig() at start; an invalid setting is reported as one line naming the variable (exit code 2).
 */
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65535);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const optionalText = z.string().trim().min(1).optional();
const url = z.string().url();

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

  DATABASE_URL: url.refine((value) => /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL').optional(),
  EMBEDDED_PG_PORT: port.default(5433),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_JWKS_URL: url.optional(),
  JWT_ISSUER: optionalText,
  JWT_AUDIENCE: optionalText,

  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  ALLOW_COMMAND_CHECKS: flag.default(false),
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
  };
  database: {
    /** Undefined: the all-in-one starter runs embedded PostgreSQL. */
    url: string | undefined;
    embeddedPort: number;
    poolSize: number;
  };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  worker: { shutdownGraceSeconds: number };
  allowCommandChecks: boolean;
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
    },
    database: { url: s.DATABASE_URL, embeddedPort: s.EMBEDDED_PG_PORT, poolSize: s.DATABASE_POOL_SIZE },
    auth: { jwtSecret: s.JWT_SECRET, jwksUrl: s.JWT_JWKS_URL, issuer: s.JWT_ISSUER, audience: s.JWT_AUDIENCE },
    worker: { shutdownGraceSeconds: s.WORKER_SHUTDOWN_GRACE_SECONDS },
    allowCommandChecks: s.ALLOW_COMMAND_CHECKS,
  };
}

/** The documented variables, for the README table test. */
export const settingNames: readonly string[] = Object.keys(settingsSchema.shape);
