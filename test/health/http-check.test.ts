import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { promises as dns } from 'node:dns';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config';
import { AddressPolicy, type AddressPolicySettings } from '../../src/health/address-policy';
import { healthSecretEnvironment } from '../../src/health/header-secrets';
import {
  HealthCheckConfigError,
  type HttpCheckOptions,
  MAX_BODY_BYTES,
  type ResolveHost,
  resolveHttpCheck,
  runHttpCheck,
} from '../../src/health/http-check';
import { httpCheckSchema, type HttpCheck } from '../../src/health/schemas';
import { TestDnsServer } from '../support/dns-server';

const TOKEN = 'tok_7f3a9c1e5b2d4f6a8c0e';
const context = { target: 'acme/api service', commit: '0123abcd', patchId: 'patch#42' };
const openPolicy = new AddressPolicy({ allowCidrs: [], denyCidrs: [] });
const RULE = 'only variables whose names start with HEALTH_SECRET_ or are listed in HEALTH_HEADER_ENV, set on the worker, can be used';

interface SeenRequest {
  url: string;
  headers: IncomingHttpHeaders;
}

/** A health endpoint on one loopback address that records what reaches it. */
function healthServer(seen: SeenRequest[]): Server {
  return createServer((request, response) => {
    seen.push({ url: request.url ?? '', headers: request.headers });
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path === '/ok') {
      response.end('status: green');
    } else if (path === '/fail') {
      response.statusCode = 500;
      response.end('boom');
    } else if (path === '/slow') {
      const timer = setTimeout(() => response.end('late'), 3_000);
      response.on('close', () => clearTimeout(timer));
    } else if (path === '/echo') {
      // Echoes the credential back, as misconfigured debug endpoints do: it must still never reach a sample.
      response.statusCode = request.headers.authorization === `Bearer ${TOKEN}` ? 418 : 401;
      response.end(`you sent ${request.headers.authorization ?? ''}`);
    } else if (path === '/big') {
      response.write('a'.repeat(MAX_BODY_BYTES + 10_000));
      response.end('MARKER');
    } else if (path === '/redirect') {
      response.statusCode = 302;
      response.setHeader('location', '/ok');
      response.end();
    } else {
      response.end(`path ${request.url ?? ''}`);
    }
  });
}

async function listen(server: Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

let server: Server;
let port: number;
let baseUrl: string;
const seen: SeenRequest[] = [];

beforeAll(async () => {
  server = healthServer(seen);
  port = await listen(server, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(() => close(server));

beforeEach(() => {
  seen.length = 0;
});

function check(overrides: Partial<HttpCheck> & { url: string }): HttpCheck {
  return httpCheckSchema.parse({ type: 'http', ...overrides });
}

function secrets(env: Record<string, string | undefined> = {}, headerEnv: string[] = []) {
  return healthSecretEnvironment({ headerEnv }, env);
}

async function run(
  overrides: Partial<HttpCheck> & { url: string },
  env: Record<string, string> = {},
  options: Partial<HttpCheckOptions> = {},
) {
  return runHttpCheck(resolveHttpCheck(check(overrides), context, secrets(env)), { addressPolicy: openPolicy, ...options });
}

/** The HealthCheckConfigError message resolving `overrides` throws. */
function resolveError(overrides: Partial<HttpCheck> & { url: string }, env: ReturnType<typeof secrets>): string {
  try {
    resolveHttpCheck(check(overrides), context, env);
  } catch (error) {
    if (error instanceof HealthCheckConfigError) return error.message;
    throw error;
  }
  throw new Error('expected resolveHttpCheck to throw');
}

describe('runHttpCheck', () => {
  it('passes on the expected status and body text', async () => {
    const sample = await run({ url: `${baseUrl}/ok`, bodyIncludes: 'green' });
    expect(sample).toMatchObject({ ok: true, checkType: 'http', status: 200, check: `GET ${baseUrl}/ok` });
    expect(sample.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(sample.at))).toBe(false);
  });

  it('fails on a wrong status with a one-line reason', async () => {
    const sample = await run({ url: `${baseUrl}/fail` });
    expect(sample).toMatchObject({ ok: false, status: 500, detail: 'expected status 200, got 500' });
  });

  it('accepts a configured non-200 status', async () => {
    expect((await run({ url: `${baseUrl}/fail`, expectStatus: 500 })).ok).toBe(true);
  });

  it('fails when the body lacks the expected text', async () => {
    const sample = await run({ url: `${baseUrl}/ok`, bodyIncludes: 'red' });
    expect(sample).toMatchObject({ ok: false, status: 200, detail: 'the body does not include "red"' });
  });

  it('reads at most MAX_BODY_BYTES of the body', async () => {
    const sample = await run({ url: `${baseUrl}/big`, bodyIncludes: 'MARKER' });
    expect(sample.ok).toBe(false);
    expect(sample.detail).toBe(`the first ${MAX_BODY_BYTES} bytes of the body does not include "MARKER"`);
  });

  it('times out a slow target', async () => {
    const started = Date.now();
    const sample = await run({ url: `${baseUrl}/slow`, timeoutMs: 200 });
    expect(sample).toMatchObject({ ok: false, detail: 'timed out after 200 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a refused connection as a failed sample', async () => {
    const closed = createServer();
    const closedPort = await listen(closed, '127.0.0.1');
    await close(closed);
    const sample = await run({ url: `http://127.0.0.1:${closedPort}/health` });
    expect(sample.ok).toBe(false);
    expect(sample.detail).toBe(`request failed: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
  });

  it('does not follow redirects', async () => {
    const sample = await run({ url: `${baseUrl}/redirect` });
    expect(sample).toMatchObject({ ok: false, status: 302 });
    expect(seen.map((request) => request.url)).toEqual(['/redirect']);
  });

  it('rejects when the caller cancels', async () => {
    const controller = new AbortController();
    const pending = run({ url: `${baseUrl}/slow` }, {}, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
  });

  it('times out a lookup that never answers', async () => {
    const sample = await run({ url: `http://never-answers.test:${port}/ok`, timeoutMs: 200 }, {}, { resolveHost: () => new Promise(() => undefined) });
    expect(sample).toMatchObject({ ok: false, detail: 'timed out after 200 ms' });
  });

  it('resolves host names with the system resolver', async () => {
    // localhost may resolve to ::1 first, where nothing listens: every validated address is tried.
    expect(await run({ url: `http://localhost:${port}/ok` })).toMatchObject({ ok: true, status: 200 });
  });
});

describe('resolveHttpCheck', () => {
  it('fills placeholders with URL-encoded values', async () => {
    const sample = await run({ url: `${baseUrl}/t/{target}/c/{commit}?patch={patchId}` });
    expect(sample.ok).toBe(true);
    expect(seen[0]?.url).toBe('/t/acme%2Fapi%20service/c/0123abcd?patch=patch%2342');
    // The label is the template, so samples of all targets count against the same check.
    expect(sample.check).toBe(`GET ${baseUrl}/t/{target}/c/{commit}`);
  });

  it('sends ${env:NAME} header values to the server', async () => {
    const sample = await run(
      { url: `${baseUrl}/echo`, headers: { Authorization: 'Bearer ${env:HEALTH_SECRET_TOKEN}', 'X-Plain': 'v1' }, expectStatus: 418 },
      { HEALTH_SECRET_TOKEN: TOKEN },
    );
    expect(sample.ok).toBe(true);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers['x-plain']).toBe('v1');
  });

  it('never puts a header value into a sample, JSON or inspect output', async () => {
    const resolved = resolveHttpCheck(
      check({
        url: `${baseUrl}/echo`,
        headers: { Authorization: 'Bearer ${env:HEALTH_SECRET_TOKEN}' },
        expectStatus: 418,
        bodyIncludes: 'nothing-like-this',
      }),
      context,
      secrets({ HEALTH_SECRET_TOKEN: TOKEN }),
    );
    const sample = await runHttpCheck(resolved, { addressPolicy: openPolicy });
    // 418 proves the server got the token (and echoed it in a body the sample must not quote).
    expect(sample).toMatchObject({ ok: false, status: 418 });
    expect(JSON.stringify(sample)).not.toContain(TOKEN);
    expect(JSON.stringify(resolved)).not.toContain(TOKEN);
    expect(JSON.stringify(resolved)).toContain('Authorization');
    expect(inspect(resolved, { depth: 5, showHidden: true })).not.toContain(TOKEN);
  });

  it('redacts a substituted value wherever a detail quotes it', async () => {
    const sample = await run(
      { url: `${baseUrl}/ok`, headers: { 'X-Api-Key': 'key=${env:HEALTH_SECRET_KEY}' }, bodyIncludes: `expected ${TOKEN}` },
      { HEALTH_SECRET_KEY: TOKEN },
    );
    expect(sample).toMatchObject({ ok: false, detail: 'the body does not include "expected [redacted]"' });
  });

  it('refuses a variable whose value would inject header lines, without quoting it', () => {
    const message = resolveError(
      { url: `${baseUrl}/ok`, headers: { 'X-Api-Key': '${env:HEALTH_SECRET_KEY}' } },
      secrets({ HEALTH_SECRET_KEY: `${TOKEN}\r\nX-Injected: 1` }),
    );
    expect(message).toBe(
      'environment variable HEALTH_SECRET_KEY of header "X-Api-Key" holds a line break or another control character, which a header value may not contain',
    );
    expect(seen).toHaveLength(0);
  });

  it('refuses user names and passwords in the url, which the label would show', () => {
    expect(resolveError({ url: `http://user:${TOKEN}@127.0.0.1:${port}/ok` }, secrets())).toBe(
      'health check url may not contain a user name or password: send credentials in a header',
    );
  });

  it('rejects a target value that breaks the host', () => {
    const configured = check({ url: 'https://{target}.example.com/health' });
    expect(() => resolveHttpCheck(configured, context, secrets())).toThrow(HealthCheckConfigError);
  });
});

describe('${env:NAME} allowlist', () => {
  it('resolves only HEALTH_SECRET_ variables and those listed in HEALTH_HEADER_ENV', () => {
    const env = { HEALTH_SECRET_A: 'value-a', LISTED_TOKEN: 'value-b', HOME: '/root' };
    const allowed = secrets(env, ['LISTED_TOKEN']);
    const resolved = resolveHttpCheck(
      check({ url: `${baseUrl}/ok`, headers: { A: '${env:HEALTH_SECRET_A}', B: 'x ${env:LISTED_TOKEN}' } }),
      context,
      allowed,
    );
    expect(resolved.requestHeaders()).toEqual({ A: 'value-a', B: 'x value-b' });
    expect(resolveError({ url: `${baseUrl}/ok`, headers: { C: '${env:HOME}' } }, allowed)).toBe(
      `header "C" asks for environment variable HOME, which is not available: ${RULE}`,
    );
  });

  it('gives the same error for a variable that is not allowed, allowed but unset, or empty', () => {
    const env = secrets({ PATH: '/usr/bin', HEALTH_SECRET_EMPTY: '' }, ['LISTED_BUT_UNSET']);
    const errorFor = (variable: string): string =>
      resolveError({ url: `${baseUrl}/ok`, headers: { 'X-Other': '${env:' + variable + '}' } }, env).replace(variable, 'NAME');
    const notAllowedButSet = errorFor('PATH');
    expect(notAllowedButSet).toBe(`header "X-Other" asks for environment variable NAME, which is not available: ${RULE}`);
    expect(errorFor('NOT_SET_ANYWHERE')).toBe(notAllowedButSet);
    expect(errorFor('HEALTH_SECRET_UNSET')).toBe(notAllowedButSet);
    expect(errorFor('LISTED_BUT_UNSET')).toBe(notAllowedButSet);
    expect(errorFor('HEALTH_SECRET_EMPTY')).toBe(notAllowedButSet);
  });

  describe('with the service settings in the environment', () => {
    const settings = { DATABASE_URL: 'postgres://wpa:db-password-1234@db/wpa', JWT_SECRET: 'jwt-secret-that-is-long-enough-0123456789' };
    const saved = { DATABASE_URL: process.env.DATABASE_URL, JWT_SECRET: process.env.JWT_SECRET };
    beforeAll(() => Object.assign(process.env, settings));
    afterAll(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it('never sends them, even when HEALTH_HEADER_ENV lists them', () => {
      expect(() => loadConfig({ HEALTH_HEADER_ENV: 'DATABASE_URL' })).toThrow(ConfigError);
      expect(() => loadConfig({ HEALTH_HEADER_ENV: 'X,JWT_SECRET' })).toThrow(/JWT_SECRET is a setting of this service/);
      // Past the config check, the resolver still refuses them, with the sentence of any unavailable variable.
      const listed = healthSecretEnvironment({ headerEnv: ['DATABASE_URL', 'JWT_SECRET'] }, process.env);
      for (const variable of ['DATABASE_URL', 'JWT_SECRET']) {
        expect(resolveError({ url: `${baseUrl}/echo`, headers: { 'X-Db': '${env:' + variable + '}' } }, listed)).toBe(
          `header "X-Db" asks for environment variable ${variable}, which is not available: ${RULE}`,
        );
      }
      expect(JSON.stringify(listed)).toBe('{}');
      expect(inspect(listed, { depth: 5, showHidden: true })).not.toMatch(/db-password|jwt-secret/);
      expect(seen).toHaveLength(0);
    });
  });
});

describe('address policy', () => {
  /** A resolver that fails the test if any lookup happens. */
  const lookups: string[] = [];
  const noLookup: ResolveHost = (hostname) => {
    lookups.push(hostname);
    return Promise.reject(new Error(`unexpected lookup of ${hostname}`));
  };
  beforeEach(() => {
    lookups.length = 0;
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'refused: 169.254.169.254 is a cloud metadata address (AWS, Azure'],
    ['http://2852039166/latest/meta-data/', 'refused: 169.254.169.254 is a cloud metadata address'],
    ['http://0xa9.254.169.254/', 'refused: 169.254.169.254 is a cloud metadata address'],
    ['http://[::ffff:a9fe:a9fe]/', 'refused: ::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254) is a cloud metadata address'],
    ['http://[fd00:ec2::254]/latest/meta-data/', 'refused: fd00:ec2::254 is a cloud metadata address (AWS instance metadata over IPv6)'],
    ['http://100.100.100.200/latest/meta-data/', 'refused: 100.100.100.200 is a cloud metadata address (Alibaba Cloud ECS instance metadata)'],
    ['http://168.63.129.16/machine', 'refused: 168.63.129.16 is a cloud metadata address (Azure WireServer'],
    ['http://169.254.10.10/', 'refused: 169.254.10.10 is a link-local address (cloud metadata services live there)'],
    ['http://[fe80::1]/', 'refused: fe80::1 is a link-local address'],
    ['http://0.0.0.0:9/', 'refused: 0.0.0.0 is an unspecified address (it reaches this machine)'],
    ['http://[::]:9/', 'refused: :: is an unspecified address'],
    ['http://224.0.0.1/', 'refused: 224.0.0.1 is a multicast address'],
    ['http://255.255.255.255/', 'refused: 255.255.255.255 is the broadcast address'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'refused: metadata.google.internal is a cloud metadata host name (Google Cloud)'],
    ['http://metadata.goog./', 'refused: metadata.goog. is a cloud metadata host name (Google Cloud)'],
  ])('refuses %s as a failed sample, before any lookup or connection', async (url, detail) => {
    const sample = await run(
      { url, headers: { Authorization: 'Bearer ${env:HEALTH_SECRET_TOKEN}' }, timeoutMs: 500 },
      { HEALTH_SECRET_TOKEN: TOKEN },
      { resolveHost: noLookup },
    );
    expect(sample).toMatchObject({ ok: false, checkType: 'http' });
    expect(sample.detail.startsWith(detail)).toBe(true);
    expect(sample.status).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  it('refuses loopback in every spelling once HEALTH_DENY_CIDRS lists it, so nothing reaches the server', async () => {
    const addressPolicy = new AddressPolicy({ allowCidrs: [], denyCidrs: ['127.0.0.0/8', '::1/128'] });
    const urls = [`${baseUrl}/ok`, `http://2130706433:${port}/ok`, `http://0x7f.1:${port}/ok`, `http://[::ffff:127.0.0.1]:${port}/ok`, `http://localhost:${port}/ok`];
    const details = [];
    for (const url of urls) details.push((await run({ url }, {}, { addressPolicy })).detail);
    expect(details).toEqual([
      'refused: 127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
      'refused: 127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
      'refused: 127.0.0.1 is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
      'refused: ::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is inside 127.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
      expect.stringMatching(/^refused: localhost resolves to (127\.0\.0\.1|::1), which is inside (127\.0\.0\.0\/8|::1\/128), which HEALTH_DENY_CIDRS refuses$/),
    ]);
    expect(seen).toEqual([]);
  });

  it('reaches only addresses inside HEALTH_ALLOW_CIDRS when it is set', async () => {
    const outside = new AddressPolicy({ allowCidrs: ['10.0.0.0/8'], denyCidrs: [] });
    expect((await run({ url: `${baseUrl}/ok` }, {}, { addressPolicy: outside })).detail).toBe(
      'refused: 127.0.0.1 is outside every block of HEALTH_ALLOW_CIDRS',
    );
    expect(seen).toEqual([]);
    const inside = new AddressPolicy({ allowCidrs: ['10.0.0.0/8', '127.0.0.1/32'], denyCidrs: [] });
    expect(await run({ url: `${baseUrl}/ok` }, {}, { addressPolicy: inside })).toMatchObject({ ok: true, status: 200 });
  });
});

describe('DNS rebinding', () => {
  // A name whose answers the test controls, served by a real DNS server on loopback.
  let answers: (name: string, queryIndex: number) => readonly string[] = () => [];
  let dnsServer: TestDnsServer;
  let resolveHost: ResolveHost;
  // A second endpoint on another loopback address and the same port: the address a rebinding answer points at.
  const seenByOther: SeenRequest[] = [];
  let other: Server;

  beforeAll(async () => {
    dnsServer = new TestDnsServer((name, queryIndex) => answers(name, queryIndex));
    const resolver = new dns.Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([await dnsServer.start()]);
    resolveHost = (hostname) => resolver.resolve4(hostname);
    other = healthServer(seenByOther);
    await listen(other, '127.0.0.2', port);
  });
  afterAll(async () => {
    await dnsServer.stop();
    await close(other);
  });
  beforeEach(() => {
    dnsServer.queries.length = 0;
    seenByOther.length = 0;
  });

  /** Runs the check `times` times in a row with `settings`, through the test's DNS server. */
  async function runRepeatedly(url: string, times: number, settings: AddressPolicySettings = { allowCidrs: [], denyCidrs: [] }) {
    const samples = [];
    for (let round = 0; round < times; round++) {
      // A short timeout bounds the test should a regression ever connect to the refused address.
      samples.push(await run({ url, timeoutMs: 1_000 }, {}, { addressPolicy: new AddressPolicy(settings), resolveHost }));
    }
    return samples;
  }

  it('connects to the address it validated while the answers alternate with a metadata address', async () => {
    answers = (_name, queryIndex) => (queryIndex % 2 === 0 ? ['127.0.0.1'] : ['169.254.169.254']);
    const samples = await runRepeatedly(`http://rebind.test:${port}/ok`, 4);
    expect(samples.map((sample) => sample.ok)).toEqual([true, false, true, false]);
    expect(samples[1]?.detail).toBe(
      'refused: rebind.test resolves to 169.254.169.254, which is a cloud metadata address (AWS, Azure, Google Cloud, Oracle, OpenStack, DigitalOcean)',
    );
    // One resolution per request: nothing resolves the name again between the check and the connect.
    expect(dnsServer.queries).toEqual(['rebind.test', 'rebind.test', 'rebind.test', 'rebind.test']);
    expect(seen).toHaveLength(2);
  });

  it('never reaches the denied address a rebinding name switches to', async () => {
    answers = (_name, queryIndex) => (queryIndex % 2 === 0 ? ['127.0.0.1'] : ['127.0.0.2']);
    const samples = await runRepeatedly(`http://rebind.test:${port}/ok`, 6, { allowCidrs: [], denyCidrs: ['127.0.0.2/32'] });
    expect(samples.map((sample) => sample.ok)).toEqual([true, false, true, false, true, false]);
    expect(samples[1]?.detail).toBe('refused: rebind.test resolves to 127.0.0.2, which is inside 127.0.0.2/32, which HEALTH_DENY_CIDRS refuses');
    expect(dnsServer.queries).toHaveLength(6);
    expect(seen).toHaveLength(3);
    expect(seenByOther).toEqual([]);
  });

  it('refuses a name when any of its addresses is refused', async () => {
    answers = () => ['127.0.0.1', '169.254.169.254'];
    const [mixed] = await runRepeatedly(`http://two-records.test:${port}/ok`, 1);
    expect(mixed).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: two-records\.test resolves to 169\.254\.169\.254, which is/) });
    answers = () => ['127.0.0.2', '127.0.0.1'];
    const [denied] = await runRepeatedly(`http://two-records.test:${port}/ok`, 1, { allowCidrs: [], denyCidrs: ['127.0.0.2/32'] });
    expect(denied).toMatchObject({ ok: false, detail: expect.stringMatching(/^refused: two-records\.test resolves to 127\.0\.0\.2/) });
    expect(seen).toEqual([]);
    expect(seenByOther).toEqual([]);
  });

  it('refuses names that spell a metadata address (nip.io style)', async () => {
    answers = (name) => (name === '169.254.169.254.nip.io' ? ['169.254.169.254'] : []);
    const [sample] = await runRepeatedly(`http://169.254.169.254.nip.io:${port}/latest/meta-data/`, 1);
    expect(sample?.detail).toMatch(/^refused: 169\.254\.169\.254\.nip\.io resolves to 169\.254\.169\.254, which is a cloud metadata address/);
  });

  it('sends the host name as TLS server name and still verifies the certificate', async () => {
    const fixtures = path.join(__dirname, '..', 'fixtures', 'health');
    const credentials = { key: readFileSync(path.join(fixtures, 'tls-test.key.pem')), cert: readFileSync(path.join(fixtures, 'tls-test.cert.pem')) };
    const serverNames: string[] = [];
    const tlsServer = createTlsServer(
      {
        ...credentials,
        SNICallback: (serverName, done) => {
          serverNames.push(serverName);
          done(null, createSecureContext(credentials));
        },
      },
      (_request, response) => response.end('ok'),
    );
    const tlsPort = await listen(tlsServer, '127.0.0.1');
    try {
      answers = () => ['127.0.0.1'];
      const [sample] = await runRepeatedly(`https://health.tls.test:${tlsPort}/ok`, 1);
      // The certificate is self-signed, so a verifying client refuses it; the handshake still shows the name it sent.
      expect(sample).toMatchObject({ ok: false, detail: 'request failed: DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate' });
      expect(serverNames).toEqual(['health.tls.test']);
    } finally {
      await close(tlsServer);
    }
  });
});
