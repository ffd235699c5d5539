/**
 * resolveGiteaBinary with stand-in go and gitea programs: the build's steps, and the reasons Gitea is unavailable.
 * (The real build takes many minutes; jest's global setup and `npm run install:gitea` run it.)
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GITEA_VERSION, giteaBinaryPath, giteaRuntimeFolder, resolveGiteaBinary } from '../../src/forges/gitea-binary';

let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'wpa-gitea-binary-'));
});

afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function executable(file: string, script: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A module folder as the module cache holds it: Gitea's runtime folders, read-only. */
function moduleFolder(): string {
  const folder = path.join(scratch, 'modcache', `gitea@v${GITEA_VERSION}`);
  for (const runtime of ['options/locale', 'templates/base', 'public/assets']) {
    mkdirSync(path.join(folder, runtime), { recursive: true });
    writeFileSync(path.join(folder, runtime, 'file.txt'), runtime);
  }
  writeFileSync(path.join(folder, 'main.go'), 'package main\n');
  for (const dir of ['options/locale', 'templates/base', 'public/assets', 'options', 'templates', 'public', '.']) chmodSync(path.join(folder, dir), 0o555);
  return folder;
}

/** A go that "downloads" `module` and "builds" a gitea printing `version`, logging its arguments. */
function fakeGo(module: string, version: string): string {
  const log = path.join(scratch, 'go.log');
  return executable(
    path.join(scratch, 'fake-go', 'go'),
    `echo "$@" >> ${log}
case "$1" in
  mod) echo '{"Path": "code.gitea.io/gitea", "Dir": "${module}"}' ;;
  build)
    while [ "$1" != "-o" ]; do shift; done
    printf '#!/bin/sh\\necho "gitea version ${version} built with go1.26.8"\\n' > "$2"
    chmod 755 "$2" ;;
esac`,
  );
}

describe('resolveGiteaBinary', () => {
  it('builds from a writable copy of the module and moves the binary and its runtime folders into .tools', async () => {
    const go = fakeGo(moduleFolder(), GITEA_VERSION);
    const lines: string[] = [];
    const gitea = await resolveGiteaBinary({ root: scratch, goPath: go, log: (line) => lines.push(line) });
    expect(gitea).toEqual({ available: true, path: giteaBinaryPath(scratch), runtimeFolder: giteaRuntimeFolder(scratch) });
    expect(readdirSync(giteaRuntimeFolder(scratch)).sort()).toEqual(['options', 'public', 'templates']);
    expect(existsSync(path.join(giteaRuntimeFolder(scratch), 'templates', 'base', 'file.txt'))).toBe(true);
    // No staging folder or lock is left behind.
    expect(readdirSync(path.join(scratch, '.tools')).sort()).toEqual(['bin', `gitea-${GITEA_VERSION}`]);
    expect(readdirSync(path.join(scratch, '.tools', 'bin'))).toEqual(['gitea']);
    expect(lines).toEqual([expect.stringContaining(`building code.gitea.io/gitea@v${GITEA_VERSION}`)]);
  });

  it('finds a built Gitea without building it again', async () => {
    const go = fakeGo(moduleFolder(), GITEA_VERSION);
    await resolveGiteaBinary({ root: scratch, goPath: go });
    rmSync(path.join(scratch, 'go.log'));
    expect(await resolveGiteaBinary({ root: scratch, goPath: go })).toMatchObject({ available: true });
    expect(existsSync(path.join(scratch, 'go.log'))).toBe(false);
  });

  it('is unavailable, saying why, without go, without install, or when the download fails', async () => {
    expect(await resolveGiteaBinary({ root: scratch, goPath: path.join(scratch, 'no-go') })).toEqual({
      available: false,
      reason: `gitea is not installed at ${giteaBinaryPath(scratch)} and go, which builds it, was not found (install Go 1.26 or later)`,
    });
    expect(await resolveGiteaBinary({ root: scratch, install: false })).toEqual({ available: false, reason: `gitea is not installed at ${giteaBinaryPath(scratch)}` });
    const offline = executable(path.join(scratch, 'offline-go', 'go'), `echo '{"Path": "code.gitea.io/gitea", "Error": "proxy.golang.org: no such host"}'; exit 1`);
    expect(await resolveGiteaBinary({ root: scratch, goPath: offline })).toEqual({
      available: false,
      reason: `gitea could not be built: go mod download code.gitea.io/gitea@v${GITEA_VERSION} failed: proxy.golang.org: no such host`,
    });
    expect(existsSync(giteaBinaryPath(scratch))).toBe(false);
  });

  it('refuses another version, and a binary whose runtime folders are gone', async () => {
    await resolveGiteaBinary({ root: scratch, goPath: fakeGo(moduleFolder(), '1.26.0') });
    expect(await resolveGiteaBinary({ root: scratch, install: false })).toEqual({
      available: false,
      reason: `gitea at ${giteaBinaryPath(scratch)} is version 1.26.0, not ${GITEA_VERSION}: remove it so the pinned version is built`,
    });
    executable(giteaBinaryPath(scratch), `echo "gitea version ${GITEA_VERSION} built with go1.26.8"`);
    rmSync(path.join(giteaRuntimeFolder(scratch), 'public'), { recursive: true });
    expect(await resolveGiteaBinary({ root: scratch, install: false })).toEqual({
      available: false,
      reason: `gitea's public folder is missing from ${giteaRuntimeFolder(scratch)}: remove ${giteaBinaryPath(scratch)} so both are built again`,
    });
  });
});
