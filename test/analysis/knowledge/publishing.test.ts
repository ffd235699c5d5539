import { cacheRestoringActions, setupActionCaching } from '../../../src/analysis/knowledge/dependency-caching';
import {
  artifactPublishingActions,
  mentionsPublishingCommand,
  publishingCommandIn,
  releaseActions,
  reviewed,
} from '../../../src/analysis/knowledge/publishing';

describe('publishing knowledge', () => {
  it('is dated and names actions in lower case, each in one table only', () => {
    expect(reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const action of [...artifactPublishingActions, ...releaseActions]) expect(action).toMatch(/^[a-z0-9-]+\/[a-z0-9._/-]+$/);
    expect([...artifactPublishingActions].filter((action) => releaseActions.has(action))).toEqual([]);
  });

  it.each([
    ['npm publish --access public', 'package publish'],
    ['pnpm -r --no-git-checks publish', 'package publish'],
    ['cd dist && sudo npm publish', 'package publish'],
    ['python -m twine upload dist/*', '`twine upload`'],
    ['npx vsce publish -p "$VSCE_PAT"', 'package publish'],
    ['cargo +stable publish --locked', '`cargo publish`'],
    ['docker buildx build --platform linux/amd64 --push -t img .', '`docker buildx --push`'],
    ['./mvnw -B deploy -DskipTests', '`mvn deploy`'],
    ['npx semantic-release', '`semantic-release`'],
  ])('reads `%s` in a script as %s', (script, label) => {
    expect(publishingCommandIn(`echo start\n${script}\n`)).toBe(label);
    expect(mentionsPublishingCommand(`run: ${script}`)).toBe(true);
  });

  it('skips rehearsals, wrappers and look-alikes in scripts, while the text-level signal stays broad', () => {
    expect(publishingCommandIn('cargo publish --dry-run\nnpm publish --dry-run')).toBeUndefined();
    expect(mentionsPublishingCommand('cargo publish --dry-run')).toBe(true);
    expect(publishingCommandIn('archery docker push ci-image')).toBeUndefined();
    expect(publishingCommandIn('npm run publish-docs\nyarn publish-storybook')).toBeUndefined();
    expect(publishingCommandIn('echo "remember to npm publish"')).toBeUndefined();
  });
});

describe('dependency-caching knowledge', () => {
  it('lists every setup action among the cache-restoring actions with the same toggle', () => {
    for (const setup of setupActionCaching) expect(cacheRestoringActions.get(setup.action)).toBe(setup.toggle);
    expect(cacheRestoringActions.get('actions/setup-go')).toEqual({ kind: 'when-true', input: 'cache', defaultOn: { from: 4 } });
  });
});
