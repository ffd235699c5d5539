import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT, UnsecuredJWT } from 'jose';
import request from 'supertest';
import { listAuditEvents } from '../../src/store/audit';
import { createTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api';

const secretKey = new TextEncoder().encode(TEST_JWT_SECRET);

/** The audit events of these requests, in order; they are written just after each response finishes. */
async function auditedRequests(api: TestApi, requestIds: string[]): Promise<Awaited<ReturnType<typeof listAuditEvents>>> {
  let events: Awaited<ReturnType<typeof listAuditEvents>> = [];
  for (let i = 0; i < 50; i += 1) {
    events = (await listAuditEvents(api.db.pool, { limit: 1000 })).filter((e) => requestIds.includes(e.requestId ?? ''));
    if (events.length >= requestIds.length) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return events;
}

describe('authentication and roles (HS256)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
  });
  afterAll(async () => {
    await api.close();
  });

  const whoami = (token?: string) => {
    const req = request(api.app).get('/api/v1/whoami');
    return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
  };

  test('no token: 401 problem with a Bearer challenge', async () => {
    const res = await whoami();
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  test('bad signature: 401', async () => {
    const forged = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setExpirationTime('1h').sign(new TextEncoder().encode('another-secret-another-secret-another'));
    expect((await whoami(forged)).status).toBe(401);
  });

  test('expired: 401 saying so', async () => {
    const expired = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt(1_000).setExpirationTime(2_000).sign(secretKey);
    const res = await whoami(expired);
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/expired/);
  });

  test('alg none: 401', async () => {
    const unsecured = new UnsecuredJWT({ roles: ['admin'] }).setSubject('mallory').setExpirationTime('1h').encode();
    expect((await whoami(unsecured)).status).toBe(401);
  });

  test('a token without a subject: 401', async () => {
    const anonymous = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secretKey);
    expect((await whoami(anonymous)).status).toBe(401);
  });

  test('a token without exp never expires, so it is refused: 401 naming the claim', async () => {
    const eternal = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('root').setIssuedAt().sign(secretKey);
    const res = await whoami(eternal);
    expect(res.status).toBe(401);
    expect(res.body.detail).toContain('"exp"');
  });

  test('a token valid for 30 days is refused; 24 hours (the default maximum) is accepted', async () => {
    const sign = (ttl: string) => new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('vera').setIssuedAt().setExpirationTime(ttl).sign(secretKey);
    const month = await whoami(await sign('30d'));
    expect(month.status).toBe(401);
    expect(month.body.detail).toContain('longer than this server accepts');
    expect((await whoami(await sign('24h'))).status).toBe(200);
    // Without iat the lifetime counts from now.
    const noIat = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('vera').setExpirationTime('25h').sign(secretKey);
    expect((await whoami(noIat)).status).toBe(401);
  });

  test.each([
    ['a line break', 'alice\nApproved-by: forged-ceo'],
    ['surrounding spaces', ' alice'],
    ['a NUL character', 'ali\u0000ce'],
    ['a bidirectional override', 'alice\u202e'],
    ['257 characters', 'a'.repeat(257)],
  ])('a subject with %s is refused: 401', async (_what, subject) => {
    const token = await new SignJWT({ roles: ['guardian'] }).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setExpirationTime('1h').sign(secretKey);
    expect((await whoami(token)).status).toBe(401);
  });

  test('right role: 200 with the actor; unknown roles are dropped', async () => {
    const token = await new SignJWT({ roles: ['viewer', 'superuser'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setExpirationTime('1h').sign(secretKey);
    const res = await whoami(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'alice', roles: ['viewer'] });
  });

  test('a groups claim: the actor carries its groups, once each', async () => {
    const token = await new SignJWT({ roles: ['guardian'], groups: ['sre', 'security', 'sre'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('gus').setExpirationTime('1h').sign(secretKey);
    const res = await whoami(token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ subject: 'gus', roles: ['guardian'], groups: ['sre', 'security'] });
  });

  test.each<[string, unknown]>([
    ['a string instead of a list', 'sre'],
    ['an object', { sre: true }],
    ['a number in the list', ['sre', 7]],
    ['an empty name', ['']],
    ['a newline', ['sre\nApproved-by: ceo']],
    ['a NUL character', ['s\u0000re']],
    ['a bidirectional override', ['sre\u202e']],
    ['a 129-character name', ['g'.repeat(129)]],
    ['33 groups', Array.from({ length: 33 }, (_, index) => `group-${index}`)],
    ['a long list (within the header limit)', Array.from({ length: 1_000 }, () => 'sre')],
  ])('a groups claim with %s: 401 naming the claim', async (_what, groups) => {
    const token = await new SignJWT({ roles: ['guardian'], groups }).setProtectedHeader({ alg: 'HS256' }).setSubject('gus').setExpirationTime('1h').sign(secretKey);
    const res = await whoami(token);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toBe("The token's groups claim must be a list of at most 32 group names, each one line of printable text of at most 128 characters.");
  });

  test.each([
    [['viewer'], 403],
    [['guardian'], 201],
    [['operator'], 201],
    [['admin'], 201],
    [[], 403],
  ] as const)('POST /targets with roles %j: %i', async (roles, status) => {
    const res = await request(api.app)
      .post('/api/v1/targets')
      .set('Authorization', `Bearer ${await api.token([...roles])}`)
      .send({ name: `org/repo-${roles.join('-') || 'none'}`, repoUrl: '/tmp/none.git', healthChecks: [{ type: 'http', url: 'http://127.0.0.1:9/ok' }] });
    expect(res.status).toBe(status);
  });

  test('denied and mutating requests are audited with actor, roles, method, path, status and request id', async () => {
    await request(api.app).get('/api/v1/targets').set('X-Request-Id', 'req-denied-1').set('User-Agent', 'audit-test');
    const token = await api.token(['viewer'], 'victor');
    await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${token}`).set('X-Request-Id', 'req-forbidden-1').send({});
    const events = await auditedRequests(api, ['req-denied-1', 'req-forbidden-1']);
    expect(events).toEqual([
      expect.objectContaining({ actor: 'anonymous', action: 'http.denied', method: 'GET', path: '/api/v1/targets', status: 401, requestId: 'req-denied-1', userAgent: 'audit-test' }),
      expect.objectContaining({ actor: 'victor', roles: ['viewer'], action: 'http.denied', method: 'POST', status: 403, requestId: 'req-forbidden-1' }),
    ]);
    expect(events[0]?.ip).toBeTruthy();
  });

  test('a plain read is not audited', async () => {
    await whoami(await api.token(['viewer'])).set('X-Request-Id', 'req-read-1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await auditedRequests(api, ['req-read-1'])).toEqual([]);
  });
});

describe('authentication through a JWKS URL (RS256 and ES256)', () => {
  let server: Server;
  let api: TestApi;
  const keys: Record<string, KeyLike> = {};

  beforeAll(async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    keys.RS256 = rsa.privateKey;
    keys.ES256 = ec.privateKey;
    const jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256' }, { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256' }] };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    api = await createTestApi({ env: { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'wpa' } });
  });
  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const sign = (alg: 'RS256' | 'ES256', kid: string, claims: { iss?: string; aud?: string } = {}) =>
    new SignJWT({ roles: ['viewer'] })
      .setProtectedHeader({ alg, kid })
      .setSubject('carol')
      .setIssuer(claims.iss ?? 'https://idp.test')
      .setAudience(claims.aud ?? 'wpa')
      .setExpirationTime('1h')
      .sign(keys[alg] as KeyLike);

  test.each(['RS256', 'ES256'] as const)('%s token from the JWKS: 200', async (alg) => {
    const res = await request(api.app).get('/api/v1/whoami').set('Authorization', `Bearer ${await sign(alg, alg === 'RS256' ? 'rsa' : 'ec')}`);
    expect(res.status).toBe(200);
    expect(res.body.subject).toBe('carol');
  });

  test('wrong issuer or audience: 401', async () => {
    for (const token of [await sign('RS256', 'rsa', { iss: 'https://evil.test' }), await sign('RS256', 'rsa', { aud: 'other' })]) {
      expect((await request(api.app).get('/api/v1/whoami').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    }
  });

  test('an HS256 token is refused when keys come from a JWKS', async () => {
    const hs = await new SignJWT({ roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setIssuer('https://idp.test').setAudience('wpa').setExpirationTime('1h').sign(secretKey);
    expect((await request(api.app).get('/api/v1/whoami').set('Authorization', `Bearer ${hs}`)).status).toBe(401);
  });
});
