import {
  actionPermissionEntry,
  actionPermissionNeeds,
  higherLevel,
  passesJobToken,
  reviewed,
  tokenUsingCommands,
  unboundedActionReason,
  unboundedActions,
} from '../../../src/analysis/knowledge/action-permissions';

const commandLabel = (script: string): string | undefined => tokenUsingCommands.find(({ pattern }) => pattern.test(script))?.label;

describe('action permission knowledge', () => {
  it('is dated and names each action once, in lower case, never both bounded and unbounded', () => {
    expect(reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const names = actionPermissionNeeds.map(({ action }) => action);
    for (const name of names) expect(name).toMatch(/^[a-z0-9-]+\/[a-z0-9._-]+(?:\/[a-z0-9._/-]+)?$/);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((name) => unboundedActions.has(name))).toEqual([]);
  });

  it('finds an action by its own name, else by its repository, so sub-actions share their repository entry', () => {
    expect(actionPermissionEntry('actions/checkout')?.needs).toEqual({ contents: 'read' });
    expect(actionPermissionEntry('github/codeql-action/analyze')?.needs).toEqual({ 'security-events': 'write', actions: 'read', contents: 'read' });
    expect(actionPermissionEntry('actions/cache/restore')?.needs).toEqual({});
    expect(actionPermissionEntry('gradle/actions/setup-gradle')?.action).toBe('gradle/actions/setup-gradle');
    // A repository of unrelated sub-actions has no repository-wide entry.
    expect(actionPermissionEntry('gradle/actions/wrapper-validation')).toBeUndefined();
    expect(actionPermissionEntry('someone/unknown-action')).toBeUndefined();
  });

  it('lists actions whose token use no table can bound', () => {
    expect(unboundedActionReason('actions/github-script')).toBe('its script may call any API');
    expect(unboundedActionReason('actions/checkout')).toBeUndefined();
  });

  it('gives the conditional needs of logins that use OIDC', () => {
    const aws = actionPermissionEntry('aws-actions/configure-aws-credentials');
    expect(aws?.needs).toEqual({});
    expect(aws?.extra).toEqual([{ when: { 'role-to-assume': true, 'aws-access-key-id': false }, needs: { 'id-token': 'write' } }]);
  });

  it.each([
    ['gh pr create --fill', '`gh`'],
    ['echo done && gh release upload v1 dist/*', '`gh`'],
    ['git -C site push origin HEAD', '`git push`'],
    ['curl -H "Authorization: token $T" https://api.github.com/repos/a/b', 'a GitHub API call'],
    ['curl "$GITHUB_API_URL/repos/a/b"', 'a GitHub API call'],
    ['git pull --rebase', undefined],
    ['ghost run && npm test', undefined],
    ['echo "push it"', undefined],
  ])('reads `%s` as %s', (script, label) => {
    expect(commandLabel(script)).toBe(label);
  });

  it('sees the job token passed along in expressions only', () => {
    expect(passesJobToken('${{ secrets.GITHUB_TOKEN }}')).toBe(true);
    expect(passesJobToken('${{ github.token }}')).toBe(true);
    expect(passesJobToken('${{ secrets.PAT || github.token }}')).toBe(true);
    expect(passesJobToken('GITHUB_TOKEN is not set here')).toBe(false);
    expect(passesJobToken('${{ secrets.RELEASE_TOKEN }}')).toBe(false);
  });

  it('takes the higher of two levels', () => {
    expect(higherLevel(undefined, 'read')).toBe('read');
    expect(higherLevel('read', 'write')).toBe('write');
    expect(higherLevel('write', 'read')).toBe('write');
  });
});
