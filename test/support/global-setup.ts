/**
 * Starts what the suites share, once per `jest` run: one embedded PostgreSQL (each suite makes its own database),
 * the Temporal binaries, act and Gitea (installed into .tools/ on first use) and the prebuilt workflow bundle.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { resolveActBinary } from '../../src/ci-run';
import { resolveGiteaBinary } from '../../src/forges/gitea-binary';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { resolveTemporalExecutable } from '../../src/temporal/binaries';
import { freePort } from '../../src/util/free-port';
import { TEST_ENV, type SharedTestState, setSharedState } from './shared-state';

const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};

/** The system packages the suites need (bubblewrap), installed once when missing. */
async function installSystemPackages(): Promise<void> {
  const script = path.join(__dirname, '..', '..', 'scripts', 'install-system-packages.sh');
  await promisify(execFile)(script, { timeout: 10 * 60_000 }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`the tests need system packages that could not be installed (${script}): ${error.stderr?.trim() || error.message}`);
  });
}

/** Builds act when missing, before any suite, so the build does not eat one act test's timeout. */
async function installAct(): Promise<void> {
  const act = await resolveActBinary({ log: (line) => console.log(line) });
  // Not fatal: the act suites skip with this reason where act cannot be built.
  if (!act.available) console.warn(`act is unavailable, the act tests will skip: ${act.reason}`);
}

/** Builds Gitea when missing, before any suite: the Gitea suites never build it themselves. */
async function installGitea(): Promise<void> {
  const gitea = await resolveGiteaBinary({ log: (line) => console.log(line) });
  // Not fatal: the Gitea suites skip with this reason where Gitea cannot be built.
  if (!gitea.available) console.warn(`gitea is unavailable, the Gitea tests will skip: ${gitea.reason}`);
}

export default async function globalSetup(): Promise<void> {
  await installSystemPackages();
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wpa-test-'));
  await fs.chmod(scratch, 0o755);
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  const [database, temporalCli, temporalTestServer] = await Promise.all([
    freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port, database: 'postgres' })),
    resolveTemporalExecutable('temporal', { explicitPath: process.env.TEMPORAL_CLI_PATH }),
    resolveTemporalExecutable('temporal-test-server', { explicitPath: process.env.TEMPORAL_TEST_SERVER_PATH }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietBundlerLogger }).then(({ code }) =>
      fs.writeFile(workflowBundlePath, code),
    ),
    installAct(),
    installGitea(),
  ]);
  const state: SharedTestState = { scratch, adminDatabaseUrl: database.url, postgresDataDir: path.join(scratch, 'pg'), temporalCli, temporalTestServer, workflowBundlePath };
  process.env[TEST_ENV] = JSON.stringify(state);
  // The process spawner a worker forks in a suite runs from src/ (TypeScript), as the suites do.
  const registerTs = path.join(__dirname, 'register-ts.js');
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require "${registerTs}"`].filter(Boolean).join(' ');
  setSharedState({ ...state, stopDatabase: database.stop });
}
