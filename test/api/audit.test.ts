/**
 * GET /api/v1/audit and /api/v1/audit/verify through the real Express app over a real database (as the service's
 * least-privilege role), including tampering by someone holding the database superuser.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Role } from '../../src/domain/types';
import { appendAuditEvent, type AuditEvent } from '../../src/store/audit';
import { createTestApi, type TestApi } from '../support/api';
import { buildAnchoredChain, expectProblems, TEST_CHECKPOINT_KEY, tamperScenarios, untouched } from '../support/audit-trail';

function apiEnv(dataDir: string): NodeJS.ProcessEnv {
  return { DATA_DIR: dataDir, AUDIT_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY };
}

describe('GET /api/v1/audit', () => {
  let api: TestApi;
  let dataDir: string;
  let guardian: string;
  const patchA = randomUUID();
  const patchB = randomUUID();
  const target = randomUUID();
  let events: AuditEvent[];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-audit-api-'));
    api = await createTestApi({ env: apiEnv(dataDir) });
    guardian = await api.token(['guardian'], 'gina');
    const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute));
    events = [];
    for (const input of [
      { actor: 'olga', action: 'target.created', subjectType: 'target', subjectId: target, at: at(0) },
      { actor: 'olga', action: 'patch.created', subjectType: 'patch', subjectId: patchA, at: at(1) },
      { actor: 'wpa-lifecycle', action: 'deployment.deployed', subjectType: 'patch', subjectId: patchA, details: { targetId: target }, at: at(2) },
      { actor: 'gina', action: 'patch.approved', subjectType: 'patch', subjectId: patchB, at: at(3) },
      { actor: 'olga', action: 'http.request', at: at(4) },
      { actor: 'gina', action: 'patchwork', subjectType: 'patch', subjectId: patchB, at: at(5) },
    ]) {
      events.push(await appendAuditEvent(api.db.pool, input));
    }
  });
  afterAll(async () => {
    await api.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const list = (query: string, token = guardian) => request(api.app).get(`/api/v1/audit${query}`).set('Authorization', `Bearer ${token}`);
  const seqs = (res: request.Response): number[] => (res.body.items as AuditEvent[]).map((event) => event.seq);

  test('everything in chain order, with the stored hashes', async () => {
    const res = await list('');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: JSON.parse(JSON.stringify(events)), next: null });
  });

  test.each([
    ['patch', `?patch=${patchA}`, [2, 3]],
    ['target: its own events and those naming it in details.targetId', `?target=${target}`, [1, 3]],
    ['actor', '?actor=gina', [4, 6]],
    ['action, exact', '?action=patch.approved', [4]],
    ['action, a prefix ending in a dot', '?action=patch.', [2, 4]],
    ['from (inclusive) and to (exclusive)', '?from=2025-01-01T12:01:00Z&to=2025-01-01T12:03:00Z', [2, 3]],
    ['from with an offset', '?from=2025-01-01T13:04:00%2B01:00', [5, 6]],
    ['several filters together', `?actor=olga&action=patch.&patch=${patchA}`, [2]],
    ['a filter nothing matches', '?actor=nobody', []],
  ])('filters by %s', async (_what, query, expected) => {
    const res = await list(query);
    expect(res.status).toBe(200);
    expect(seqs(res)).toEqual(expected);
  });

  test('pages by cursor: `next` is the seq to pass as `after`, null on the last page', async () => {
    const first = await list('?limit=4');
    expect(seqs(first)).toEqual([1, 2, 3, 4]);
    expect(first.body.next).toBe(4);
    const second = await list(`?limit=4&after=${String(first.body.next)}`);
    expect(seqs(second)).toEqual([5, 6]);
    expect(second.body.next).toBeNull();
    const exact = await list('?limit=2&after=4');
    expect(seqs(exact)).toEqual([5, 6]);
    expect(exact.body.next).toBeNull();
    const filtered = await list('?actor=olga&limit=2');
    expect(seqs(filtered)).toEqual([1, 2]);
    expect(seqs(await list(`?actor=olga&limit=2&after=${String(filtered.body.next)}`))).toEqual([5]);
  });

  test.each<[Role[], number]>([
    [['guardian'], 200],
    [['admin'], 200],
    [['guardian', 'viewer'], 200],
    [['viewer'], 403],
    [['operator'], 403],
    [[], 403],
  ])('roles %j: %i, for the list and for verify', async (roles, status) => {
    const token = await api.token(roles);
    const [listed, verified] = await Promise.all([list('', token), request(api.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`)]);
    expect([listed.status, verified.status]).toEqual([status, status]);
    if (status === 403) expect(listed.body.detail).toBe('This action needs the guardian or admin role.');
  });

  test('no token: 401', async () => {
    expect((await request(api.app).get('/api/v1/audit')).status).toBe(401);
    expect((await request(api.app).get('/api/v1/audit/verify')).status).toBe(401);
  });

  test.each([
    ['NUL in actor', '?actor=ab%00c'],
    ['NUL in action', '?action=patch.%00'],
    ['NUL in after', '?after=%00'],
    ['a huge after', '?after=99999999999999999999999999'],
    ['an after beyond any number', '?after=1e400'],
    ['a negative after', '?after=-1'],
    ['a fractional limit', '?limit=1.5'],
    ['limit 0', '?limit=0'],
    ['limit 501', '?limit=501'],
    ['a non-numeric limit', '?limit=ten'],
    ['a date that does not exist', '?from=2025-02-30T00:00:00Z'],
    ['a date without time', '?from=2025-01-01'],
    ['words for a date', '?to=yesterday'],
    ['from after to', '?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z'],
    ['a patch that is not a UUID', '?patch=1%20OR%201=1'],
    ['a target that is not a UUID', "?target=x'--"],
    ['a LIKE pattern as action', '?action=patch%25'],
    ['an action of 1000 characters', `?action=${'a'.repeat(1000)}`],
    ['an actor of 10000 characters', `?actor=${'a'.repeat(10_000)}`],
    ['a repeated parameter', '?actor=a&actor=b'],
    ['a bracketed parameter', '?actor[]=a'],
    ['an unknown parameter', '?actors=a'],
    ['an empty actor', '?actor='],
  ])('%s: 400 problem, never 500', async (_what, query) => {
    const res = await list(query);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ message: expect.any(String) })]));
  });

  test('extreme but valid dates are answered, not failed', async () => {
    // Denied requests of the role tests above are audited too (http.denied): look at patch events only.
    expect(seqs(await list('?action=patch.&from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59.999Z'))).toEqual([2, 4]);
    expect(seqs(await list('?to=0000-01-01T00:00:00Z'))).toEqual([]);
    expect((await list(`?after=${Number.MAX_SAFE_INTEGER}`)).body).toEqual({ items: [], next: null });
  });
});

describe('GET /api/v1/audit/verify detects tampering', () => {
  let api: TestApi;
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-audit-verify-'));
    api = await createTestApi({ env: apiEnv(dataDir) });
    await buildAnchoredChain(api.db, dataDir);
  });
  afterEach(async () => {
    await api.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const verify = async (roles: Role[] = ['guardian']) =>
    request(api.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${await api.token(roles)}`);

  test(`${untouched.name}: ok`, async () => {
    const res = await verify(['admin']);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...untouched.expected, problems: [] });
  });

  test.each(tamperScenarios)('$name', async (scenario) => {
    await scenario.tamper(api.db);
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(scenario.expected);
    expectProblems(res.body.problems as string[], scenario.problems);
  });
});
