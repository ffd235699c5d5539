/**
 * Finding the Go toolchain that builds the tools this project compiles from Go modules on first use (act, Gitea),
 * and the part of the worker's environment such a build may see.
 */
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';

/** Where go is looked for besides the PATH: the official tarball's place. */
const GO_FALLBACK_PATHS = ['/usr/local/go/bin/go'];

/** What a go build needs of the worker's environment: its tool and cache locations and proxy settings, no secrets. */
export const GO_ENV_NAMES = ['PATH', 'HOME', 'GOPATH', 'GOCACHE', 'GOMODCACHE', 'GOPROXY', 'GONOSUMDB', 'GOPRIVATE', 'GOSUMDB', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'];

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The go executable: `explicit` when given and executable, else the first on the PATH, else the fallback; undefined when none. */
export async function findGo(explicit: string | undefined): Promise<string | undefined> {
  if (explicit !== undefined) return (await isExecutable(explicit)) ? explicit : undefined;
  const onPath = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '').map((dir) => path.join(dir, 'go'));
  for (const candidate of [...onPath, ...GO_FALLBACK_PATHS]) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
