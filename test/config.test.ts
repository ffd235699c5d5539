import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, settingNames } from '../src/config';

describe('loadConfig', () => {
  test('defaults describe the embedded all-in-one stack', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.api).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.dataDir).toBe('/srv/app/.data');
    expect(config.temporal).toMatchObject({ address: undefined, namespace: 'default', taskQueue: 'workflow-patch-agent', tls: false, devPort: 7233, uiPort: 8233 });
    expect(config.database.url).toBeUndefined();
    expect(config.sandbox).toMatchObject({ allowUnsandboxed: false, uid: 65534, gid: 65534 });
    expect(config.repositories.allowLocal).toBeUndefined();
    expect(config.auth.maxLifetimeSeconds).toBe(86_400);
    expect(config.actions.gitBaseUrl).toBe('https://github.com');
  });

  test('empty variables count as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).api.port).toBe(8080);
  });

  test.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'mysql://localhost/x'],
    ['JWT_SECRET', 'short'],
    ['ALLOW_UNSANDBOXED_COMMANDS', 'maybe'],
    ['ALLOW_LOCAL_REPOS', 'sometimes'],
    ['HEALTH_DENY_CIDRS', '10.0.0.0/33'],
    ['HEALTH_ALLOW_CIDRS', '10.0.0.0'],
    ['HEALTH_HEADER_ENV', 'NOT-A-NAME'],
    ['HEALTH_HEADER_ENV', 'HEALTH_TOKEN,DATABASE_URL'],
    ['AUDIT_CHECKPOINT_KEY', 'short'],
    ['JWT_MAX_LIFETIME_SECONDS', '0'],
    ['JWT_JWKS_URL', 'not a url'],
    ['ACTIONS_GIT_BASE_URL', 'ext::sh -c touch% /tmp/pwned'],
    ['ACTIONS_GIT_BASE_URL', 'ftp://mirror.example'],
    ['TEMPORAL_UI_URL', 'javascript:alert(1)'],
    ['TEMPORAL_UI_URL', 'temporal-ui:8080'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '1'],
    ['WORKER_MAX_CACHED_WORKFLOWS', '-5'],
    ['WORKER_MAX_CACHED_WORKFLOWS', 'lots'],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '1'],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0'],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES', '2.5'],
    ['WORKER_FIRST_HEARTBEAT_MS', '-1'],
    ['WORKER_FIRST_HEARTBEAT_MS', '1e6'],
    ['GIT_CACHE_MAX_REPOS', '0'],
    ['GIT_CACHE_MAX_REPOS', '1e9'],
    ['GIT_CACHE_MAX_REPOS', '../../etc'],
  ])('an invalid %s is reported by name', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^invalid setting ${variable}: `));
  });

  test('the Web UI reports link to is the embedded one unless TEMPORAL_UI_URL says otherwise', () => {
    expect(loadConfig({}).temporal.uiUrl).toBe('http://127.0.0.1:8233');
    expect(loadConfig({ TEMPORAL_UI_PORT: '9233' }).temporal.uiUrl).toBe('http://127.0.0.1:9233');
    expect(loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.com/ui/' }).temporal.uiUrl).toBe('https://temporal.example.com/ui');
  });

  test('external servers switch the embedded parts off', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', DATABASE_URL: 'postgres://u:p@db:5432/wpa' });
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.database.url).toBe('postgres://u:p@db:5432/wpa');
  });

  test('an API key implies TLS unless TLS is turned off', () => {
    expect(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporal.tls).toBe(true);
    expect(loadConfig({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).temporal.tls).toBe(false);
    expect(loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/k.pem' }).temporal.tls).toEqual({
      clientCertPath: '/c.pem',
      clientKeyPath: '/k.pem',
    });
  });

  test('conflicting or incomplete settings name the variable to fix', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' })).toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH/);
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(32), JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/JWT_JWKS_URL/);
  });

  test('the worker keeps a bounded workflow cache and room for 100 reverts at once by default', () => {
    expect(loadConfig({}).worker).toMatchObject({ maxCachedWorkflows: 500, maxConcurrentWorkflowTasks: 40, maxConcurrentActivities: 400, firstHeartbeatMs: 5000 });
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '200' }).worker).toMatchObject({ maxCachedWorkflows: 0, maxConcurrentWorkflowTasks: 200 });
  });

  test('a worker setting that is not a whole number says what it got', () => {
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow('invalid setting WORKER_MAX_CACHED_WORKFLOWS: must be a number, not text');
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '2.5' })).toThrow('invalid setting WORKER_MAX_CONCURRENT_ACTIVITIES: must be a whole number, not 2.5');
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '1' })).toThrow('invalid setting WORKER_MAX_CACHED_WORKFLOWS: must be 0 (no cache) or at least 2');
  });

  test('the worker cannot run more workflow tasks at once than its cache holds', () => {
    expect(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '10' })).toThrow(
      'invalid setting WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: must be at most WORKER_MAX_CACHED_WORKFLOWS (10) unless the cache is off (0)',
    );
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '10', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10' }).worker.maxConcurrentWorkflowTasks).toBe(10);
  });

  test('the README documents every setting', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...settingNames].sort());
  });
});
