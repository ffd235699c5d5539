import { loadConfig } from '../../src/config';
import { sandboxCommandLine, type SandboxLaunch } from '../../src/sandbox/command-line';

const config = loadConfig({ SANDBOX_DIR: '/srv/wpa-sandbox', SANDBOX_READ_ONLY_PATHS: '/opt/toolchain' }).sandbox;

function launch(overrides: Partial<SandboxLaunch> = {}): SandboxLaunch {
  return {
    tools: { bwrap: '/usr/bin/bwrap', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv' },
    systemFolders: [
      { path: '/usr', kind: 'directory' },
      { path: '/etc', kind: 'directory' },
      { path: '/bin', kind: 'symlink', target: 'usr/bin' },
      { path: '/lib64', kind: 'directory' },
    ],
    runDir: '/srv/wpa-sandbox/run-AbC123',
    settings: { network: false, env: { REGION: 'eu' } },
    config,
    ...overrides,
  };
}

describe('sandboxCommandLine', () => {
  it('drops root with setpriv, then runs bwrap without network, with an empty environment and prlimit limits', () => {
    expect(sandboxCommandLine(['npm', 'test', '--', '--ci'], launch())).toEqual([
      '/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--',
      '/usr/bin/bwrap', '--die-with-parent', '--new-session', '--unshare-all',
      '--unshare-user', '--uid', '65534', '--gid', '65534',
      '--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc', '--symlink', 'usr/bin', '/bin', '--ro-bind', '/lib64', '/lib64',
      '--ro-bind', '/opt/toolchain', '/opt/toolchain',
      '--proc', '/proc', '--dev', '/dev', '--size', String(4096 * 1024 ** 2), '--tmpfs', '/tmp', '--dir', '/tmp/home',
      '--bind', '/srv/wpa-sandbox/run-AbC123', '/workspace', '--chdir', '/workspace', '--remount-ro', '/',
      '--clearenv', '--setenv', 'PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--setenv', 'HOME', '/tmp/home',
      '--setenv', 'TMPDIR', '/tmp', '--setenv', 'LANG', 'C.UTF-8', '--setenv', 'REGION', 'eu',
      '--',
      '/usr/bin/prlimit', `--data=${4096 * 1024 ** 2}`, '--cpu=900:901', '--nproc=512', '--nofile=4096', `--fsize=${1024 ** 3}`, '--core=0', '--',
      'npm', 'test', '--', '--ci',
    ]);
  });

  it('runs bwrap directly when the worker is not root, and shares the network only when the target allows it', () => {
    const argv = sandboxCommandLine(['true'], launch({ tools: { bwrap: '/usr/bin/bwrap', prlimit: '/usr/bin/prlimit' }, settings: { network: true, env: {} } }));
    expect(argv[0]).toBe('/usr/bin/bwrap');
    expect(argv).not.toContain('/usr/bin/setpriv');
    expect(argv.slice(3, 5)).toEqual(['--unshare-all', '--share-net']);
    expect(argv.join(' ')).toContain('--ro-bind-try /run/systemd/resolve /run/systemd/resolve');
  });

  it('lets a declared variable replace a default one (e.g. PATH with a toolchain)', () => {
    const argv = sandboxCommandLine(['true'], launch({ settings: { network: false, env: { PATH: '/opt/toolchain/bin:/usr/bin' } } }));
    expect(argv.join(' ')).toContain('--setenv PATH /opt/toolchain/bin:/usr/bin --setenv HOME');
    expect(argv.filter((arg) => arg === 'PATH')).toHaveLength(1);
  });

  it('binds the paths of one run read-only after the private /tmp, which would hide those under the host\'s /tmp', () => {
    const argv = sandboxCommandLine(['true'], launch({ runReadOnlyPaths: ['/srv/tools/act', '/srv/action-mirror'] }));
    expect(argv.join(' ')).toContain('--dir /tmp/home --ro-bind /srv/tools/act /srv/tools/act --ro-bind /srv/action-mirror /srv/action-mirror --bind');
  });

  it('starts in the empty HOME instead of the checkout copy when asked (tools that read options from their working directory)', () => {
    const argv = sandboxCommandLine(['true'], launch({ startOutsideCheckout: true }));
    expect(argv.join(' ')).toContain('--bind /srv/wpa-sandbox/run-AbC123 /workspace --chdir /tmp/home --remount-ro /');
  });
});
