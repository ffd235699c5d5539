import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { HealthCheckConfigError, MAX_BODY_BYTES, resolveHttpCheck, runHttpCheck } from '../../src/health/http-check';
import { httpCheckSchema, type HttpCheck } from '../../src/health/schemas';

const TOKEN = 'tok_7f3a9c1e5b2d4f6a8c0e';
const context = { target: 'acme/api service', commit: '0123abcd', patchId: 'patch#42' };

interface SeenRequest {
  url: string;
  headers: IncomingHttpHeaders;
}

let server: Server;
let baseUrl: string;
const seen: SeenRequest[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

function check(overrides: Partial<HttpCheck> & { url: string }): HttpCheck {
  return httpCheckSchema.parse({ type: 'http', ...overrides });
}

async function run(overrides: Partial<HttpCheck> & { url: string }, env: Record<string, string> = {}) {
  return runHttpCheck(resolveHttpCheck(check(overrides), context, env));
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
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sample = await run({ url: `http://127.0.0.1:${port}/health` });
    expect(sample.ok).toBe(false);
    expect(sample.detail).toMatch(/^request failed: ECONNREFUSED/);
    expect(sample.detail).not.toContain('\n');
  });

  it('does not follow redirects', async () => {
    const sample = await run({ url: `${baseUrl}/redirect` });
    expect(sample).toMatchObject({ ok: false, status: 302 });
    expect(seen.map((request) => request.url)).toEqual(['/redirect']);
  });

  it('rejects when the caller cancels', async () => {
    const controller = new AbortController();
    const pending = runHttpCheck(resolveHttpCheck(check({ url: `${baseUrl}/slow` }), context, {}), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    await expect(pending).rejects.toThrow('activity cancelled');
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
      { url: `${baseUrl}/echo`, headers: { Authorization: 'Bearer ${env:TOKEN}', 'X-Plain': 'v1' }, expectStatus: 418 },
      { TOKEN },
    );
    expect(sample.ok).toBe(true);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers['x-plain']).toBe('v1');
  });

  it('never puts a header value into a sample, JSON or inspect output', async () => {
    const resolved = resolveHttpCheck(
      check({
        url: `${baseUrl}/echo`,
        headers: { Authorization: 'Bearer ${env:TOKEN}' },
        expectStatus: 418,
        bodyIncludes: 'nothing-like-this',
      }),
      context,
      { TOKEN },
    );
    const sample = await runHttpCheck(resolved);
    // 418 proves the server got the token (and echoed it in a body the sample must not quote).
    expect(sample).toMatchObject({ ok: false, status: 418 });
    expect(JSON.stringify(sample)).not.toContain(TOKEN);
    expect(JSON.stringify(resolved)).not.toContain(TOKEN);
    expect(JSON.stringify(resolved)).toContain('Authorization');
    expect(inspect(resolved, { depth: 5, showHidden: true })).not.toContain(TOKEN);
  });

  it('redacts a header value that an error message quotes', async () => {
    // fetch quotes a header value containing NUL in its error message.
    const badValue = `${TOKEN}\u0000x`;
    const sample = await run({ url: `${baseUrl}/ok`, headers: { 'X-Api-Key': 'key=${env:KEY}' } }, { KEY: badValue });
    expect(sample.ok).toBe(false);
    expect(sample.detail).toMatch(/^request failed: .*\[redacted\]/);
    expect(sample.detail).not.toContain(TOKEN);
    expect(seen).toHaveLength(0);
  });

  it('names a missing variable without leaking other values', () => {
    const configured = check({ url: `${baseUrl}/ok`, headers: { Authorization: 'Bearer ${env:TOKEN}', 'X-Other': '${env:OTHER}' } });
    let thrown: unknown;
    try {
      resolveHttpCheck(configured, context, { TOKEN });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HealthCheckConfigError);
    expect((thrown as Error).message).toContain('OTHER');
    expect((thrown as Error).message).toContain('X-Other');
    expect((thrown as Error).message).not.toContain(TOKEN);
  });

  it('treats an empty variable as missing', () => {
    expect(() => resolveHttpCheck(check({ url: `${baseUrl}/ok`, headers: { A: '${env:EMPTY}' } }), context, { EMPTY: '' })).toThrow(
      /EMPTY/,
    );
  });

  it('rejects a target value that breaks the host', () => {
    const configured = check({ url: 'https://{target}.example.com/health' });
    expect(() => resolveHttpCheck(configured, context, {})).toThrow(HealthCheckConfigError);
  });
});
