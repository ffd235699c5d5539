import { evaluateHealth } from '../../src/health/evaluate';
import type { HealthSample } from '../../src/health/types';

let clock = 0;
function sample(ok: boolean, check = 'GET https://{target}/health', detail = ok ? 'status 200' : 'expected status 200, got 500'): HealthSample {
  clock += 1;
  return { ok, checkType: 'http', check, detail, latencyMs: 5, at: new Date(Date.UTC(2025, 0, 1, 0, 0, clock)).toISOString() };
}

describe('evaluateHealth', () => {
  it('is healthy when no check reaches the threshold', () => {
    const result = evaluateHealth({ 'acme/a': [sample(false), sample(false), sample(true)], 'acme/b': [sample(true)] }, 2);
    expect(result).toMatchObject({ healthy: true, verdict: 'healthy', failingTargets: [] });
    expect(result.reason).toBe('all 2 targets healthy (threshold 2 consecutive failures)');
  });

  it('fails on consecutive failures at the end of a target', () => {
    const result = evaluateHealth({ 'acme/a': [sample(true), sample(false), sample(false), sample(false)], 'acme/b': [sample(true)] }, 3);
    expect(result.healthy).toBe(false);
    expect(result.verdict).toBe('failing');
    expect(result.failingTargets).toEqual([
      { target: 'acme/a', check: 'GET https://{target}/health', consecutiveFailures: 3, lastDetail: 'expected status 200, got 500' },
    ]);
    expect(result.reason).toContain('1 of 2 targets reached 3 consecutive failures: acme/a');
  });

  it('does not add up failures that a success interrupted', () => {
    const result = evaluateHealth({ 'acme/a': [sample(false), sample(false), sample(true), sample(false)] }, 3);
    expect(result.healthy).toBe(true);
    expect(result.reason).toContain('recent failures below the threshold on acme/a');
  });

  it('counts failures per check when checks interleave', () => {
    const http = 'GET https://{target}/health';
    const smoke = 'command ./smoke.sh';
    const samples = [sample(false, http), sample(true, smoke), sample(false, http), sample(true, smoke), sample(false, http)];
    const result = evaluateHealth({ 'acme/a': samples }, 3);
    expect(result.failingTargets).toMatchObject([{ target: 'acme/a', check: http, consecutiveFailures: 3 }]);
  });

  it('is inconclusive when a target has no samples yet', () => {
    const result = evaluateHealth({ 'acme/a': [sample(true)], 'acme/b': [] }, 3);
    expect(result).toMatchObject({ healthy: false, verdict: 'inconclusive', targetsWithoutSamples: ['acme/b'] });
    expect(evaluateHealth({}, 3)).toMatchObject({ healthy: false, verdict: 'inconclusive', reason: 'no targets to evaluate' });
  });

  it('prefers failing over inconclusive', () => {
    const result = evaluateHealth({ 'acme/a': [sample(false)], 'acme/b': [] }, 1);
    expect(result.verdict).toBe('failing');
    expect(result.targetsWithoutSamples).toEqual(['acme/b']);
  });

  it('falls back to a threshold of 1 on invalid input instead of throwing', () => {
    expect(evaluateHealth({ 'acme/a': [sample(false)] }, 0).verdict).toBe('failing');
    expect(evaluateHealth({ 'acme/a': [sample(false)] }, Number.NaN).verdict).toBe('failing');
  });

  it('lists failing targets in a stable order and shortens the reason', () => {
    const input: Record<string, HealthSample[]> = {};
    for (const name of ['e', 'c', 'a', 'd', 'b']) input[`acme/${name}`] = [sample(false)];
    const result = evaluateHealth(input, 1);
    expect(result.failingTargets.map((failing) => failing.target)).toEqual(['acme/a', 'acme/b', 'acme/c', 'acme/d', 'acme/e']);
    expect(result.reason).toMatch(/and 2 more$/);
  });
});
