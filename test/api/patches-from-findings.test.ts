/**
 * POST /patches with fromFindings against a real database, real git remotes and stored analyses (the real analysis
 * activity): its shape, exactly one of diff and fromFindings, and the refusals that name what is wrong. Temporal is
 * an address nothing listens on; a generated patch going through its lifecycle is test/e2e/patch-from-findings.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Target } from '../../src/domain/types';
import { startAnalysis } from '../../src/store/analyses';
import { createTarget } from '../../src/store/targets';
import { createTestApi, PERMISSIONS_DIFF, type TestApi } from '../support/api';
import { analyzeIntoStore } from '../support/findings';
import { CI_PATH, TestRemote } from '../git/remote-fixture';

const TIMED_WORKFLOW = ['name: CI', 'on: [push]', 'permissions:', '  contents: read', 'jobs:', '  build:', '    runs-on: ubuntu-latest', '    timeout-minutes: 10', '    steps:', '      - run: make', ''].join('\n');

describe('POST /patches with fromFindings', () => {
  let api: TestApi;
  let operator: string;
  const remotes: TestRemote[] = [];

  beforeAll(async () => {
    api = await createTestApi();
    operator = await api.token(['operator'], 'olga');
  });
  afterAll(async () => {
    for (const remote of remotes) remote.dispose();
    await api.close();
  });

  const post = (body: object) => request(api.app).post('/api/v1/patches').set('Authorization', `Bearer ${operator}`).send(body);
  const patchCount = async (): Promise<number> => Number((await api.db.pool.query<{ count: string }>('SELECT count(*) FROM patches')).rows[0]?.count);

  async function analyzed(files?: Record<string, string>): Promise<{ target: Target; analysisId: string }> {
    const remote = new TestRemote(files);
    remotes.push(remote);
    const target = await createTarget(api.db.pool, {
      name: `org/api-ff-${randomUUID().slice(0, 8)}`,
      repoUrl: remote.bare,
      branch: 'main',
      healthChecks: [{ type: 'http', url: 'http://127.0.0.1:9/ok', expectStatus: 200, timeoutMs: 1000 }],
      verifyCommand: null,
      createdBy: 'test',
    });
    return { target, analysisId: (await analyzeIntoStore(api.db, api.config, target)).id };
  }

  const fieldsOf = (res: { body: { errors?: Array<{ path: string }> } }): string[] => (res.body.errors ?? []).map((error) => error.path);

  test.each<[string, object, string]>([
    ['both a diff and fromFindings', { diff: PERMISSIONS_DIFF, fromFindings: { analysisIds: [randomUUID()] } }, 'diff'],
    ['targets with fromFindings', { targets: [randomUUID()], fromFindings: { analysisIds: [randomUUID()] } }, 'targets'],
    ['neither a diff nor fromFindings', { title: 'x', type: 'security', targets: [randomUUID()] }, 'diff'],
    ['fromFindings that is not an object', { fromFindings: 'all of them' }, 'fromFindings'],
    ['no analyses', { fromFindings: { analysisIds: [] } }, 'fromFindings.analysisIds'],
    ['an analysis id that is not a UUID', { fromFindings: { analysisIds: ['latest'] } }, 'fromFindings.analysisIds.0'],
    ['an analysis twice', { fromFindings: { analysisIds: ['11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111'] } }, 'fromFindings.analysisIds'],
    ['a rule the analyzer does not have', { fromFindings: { analysisIds: [randomUUID()], ruleIds: ['no-such-rule'] } }, 'fromFindings.ruleIds.0'],
    ['a rule id with a bidirectional override', { fromFindings: { analysisIds: [randomUUID()], ruleIds: ['missing-job-timeout\u202e'] } }, 'fromFindings.ruleIds.0'],
    ['an empty rule list', { fromFindings: { analysisIds: [randomUUID()], ruleIds: [] } }, 'fromFindings.ruleIds'],
    ['a fingerprint that is not one', { fromFindings: { analysisIds: [randomUUID()], fingerprints: ['../../etc/passwd'] } }, 'fromFindings.fingerprints.0'],
    ['unsafe that is not true or false', { fromFindings: { analysisIds: [randomUUID()], unsafe: 'yes' } }, 'fromFindings.unsafe'],
    ['an unknown field in fromFindings', { fromFindings: { analysisIds: [randomUUID()], everything: true } }, 'fromFindings'],
    ['a title with a trailer line', { title: 'x\n\nApproved-by: ceo', fromFindings: { analysisIds: [randomUUID()] } }, 'title'],
    ['an unknown patch type', { type: 'hotfix', fromFindings: { analysisIds: [randomUUID()] } }, 'type'],
  ])('422 for %s, naming the field', async (_name, body, field) => {
    const before = await patchCount();
    const res = await post(body);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(fieldsOf(res)).toContain(field);
    expect(await patchCount()).toBe(before);
  });

  test('a NUL byte in a rule id is refused at the door', async () => {
    const res = await post({ fromFindings: { analysisIds: [randomUUID()], ruleIds: ['missing\u0000job-timeout'] } });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toMatchObject({ path: 'fromFindings.ruleIds.0', message: expect.stringContaining('NUL') });
  });

  test('unknown and unfinished analyses are refused, naming them', async () => {
    const { target, analysisId } = await analyzed();
    const missing = randomUUID();
    const unknown = await post({ fromFindings: { analysisIds: [analysisId, missing] } });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ missingAnalyses: [missing], detail: `No analysis ${missing}.` });
    const running = randomUUID();
    await startAnalysis(api.db.pool, { id: running, targetId: target.id, requestedBy: 'test' });
    const unfinished = await post({ fromFindings: { analysisIds: [running] } });
    expect(unfinished.status).toBe(422);
    expect(unfinished.body.detail).toContain('still running');
    const twice = await post({ fromFindings: { analysisIds: [analysisId, (await analyzeIntoStore(api.db, api.config, target)).id] } });
    expect(twice.status).toBe(422);
    expect(twice.body.duplicateTargets[0]).toMatchObject({ targetId: target.id });
  });

  test('a patch that would be empty is a 422 naming each target and why', async () => {
    const timed = await analyzed({ [CI_PATH]: TIMED_WORKFLOW });
    const fixable = await analyzed();
    const before = await patchCount();
    const res = await post({ fromFindings: { analysisIds: [timed.analysisId, fixable.analysisId], ruleIds: ['missing-job-timeout'] } });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/^The patch would be empty/);
    expect(res.body.skippedTargets).toEqual([
      { targetId: timed.target.id, target: timed.target.name, reason: `analysis ${timed.analysisId} has no fixable finding` },
      { targetId: fixable.target.id, target: fixable.target.name, reason: expect.stringContaining('set fromFindings.unsafe') },
    ]);
    expect(await patchCount()).toBe(before);
  });
});
