import {
  attackerControlledMatch,
  attackerControlledContexts,
  pathContains,
  pathWithin,
  reviewed,
} from '../../../src/analysis/knowledge/untrusted-contexts';

describe('untrusted-contexts', () => {
  it('is dated and lists lower-case dotted paths with the events that fill them', () => {
    expect(reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const context of attackerControlledContexts) {
      expect(context.path).toMatch(/^github\.[a-z_.*]+$/);
      expect(context.events.length).toBeGreaterThan(0);
    }
  });

  it('matches values, fields inside them, wildcards and containers', () => {
    expect(attackerControlledMatch(['github', 'event', 'issue', 'title'])).toMatchObject({ kind: 'value', path: 'github.event.issue.title' });
    expect(attackerControlledMatch(['github', 'event', 'commits', '*', 'message'])?.kind).toBe('value');
    expect(attackerControlledMatch(['github', 'event', '*', 'body'])?.kind).toBe('value');
    const container = attackerControlledMatch(['github', 'event', 'pull_request']);
    expect(container?.kind).toBe('container');
    expect([...(container?.events ?? [])]).toContain('pull_request_target');
    for (const safe of ['github.event.pull_request.number', 'github.event.pull_request.head.sha', 'github.repository', 'github.event.issue.user.login']) {
      expect(attackerControlledMatch(safe.split('.'))).toBeUndefined();
    }
    expect(pathWithin(['github', 'head_ref'], 'github.head_ref')).toBe(true);
    expect(pathContains(['github'], 'github.head_ref')).toBe(true);
    expect(pathContains(['github', 'head_ref'], 'github.head_ref')).toBe(false);
  });
});
