import { setTrailingComment } from '../../edit/trailing-comment';
import { isUnfixable, replaceScalar, type Unfixable } from '../../edit/yaml-edits';
import { type FixContext, type FixPlan, jobsOf, type Rule, stepsOf } from '../../rule';
import { hasExpression, usesOf, type UsesSite } from '../../security-sites';
import type { TextEdit } from '../../edit/text-edits';

const fullCommitSha = /^[0-9a-f]{40}$/i;
const abbreviatedCommitSha = /^[0-9a-f]{7,39}$/i;
/** The first word of a comment that names the pinned version (`v4`, `v4.2.2`, `tag=v4`, `pin@v4`, `4.1,`). */
const versionWord = /^(?:tag=|pin@)?v?\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?[,;:]?$/;

/** `owner/repo[/path]@<sha> # <version>`: the value and, where YAML allows one, the comment on its line. */
function pinEdits({ file, actionRefs }: FixContext, { node, ref }: UsesSite): TextEdit[] | Unfixable {
  const owner = ref.owner ?? '';
  const repo = ref.repo ?? '';
  const name = ref.ref ?? '';
  const resolved = actionRefs.resolve(owner, repo, name);
  if ('unresolved' in resolved) return { unfixable: `the ref could not be resolved: ${resolved.unresolved}` };
  const target = ref.raw.slice(0, ref.raw.lastIndexOf('@'));
  const value = replaceScalar(file, node, `${target}@${resolved.sha}`);
  if (isUnfixable(value)) return value;
  // A pin says which version it is, so readers and Dependabot or Renovate can follow it; an abbreviated SHA says nothing.
  const version = resolved.version ?? (abbreviatedCommitSha.test(name) ? undefined : name);
  const comment = version === undefined ? undefined : setTrailingComment(file, node, version, (word) => word === name || versionWord.test(word));
  return comment === undefined ? [value] : [value, comment];
}

/** Safe: the SHA is the commit the ref points to now, so the job runs the same code. */
function pinFix(site: UsesSite): FixPlan {
  return {
    safety: 'safe',
    title: `Pin \`${site.ref.raw}\` to the commit SHA it points to`,
    edits: (ctx) => pinEdits(ctx, site),
  };
}

export const unpinnedActionRule: Rule = {
  id: 'unpinned-action',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Actions and reusable workflows referenced by a tag or branch instead of a full commit SHA.',
  rationale:
    'A tag such as `v4` or a branch such as `main` is a moving pointer: whoever controls the action repository, or ' +
    'compromises it, can point it at new code, and that code then runs in your jobs with their token and secrets. ' +
    'This is how the tj-actions/changed-files compromise of March 2025 reached thousands of repositories. A full ' +
    '40-character commit SHA is the only reference that cannot change. Actions published by first-party owners ' +
    '(GitHub\'s own `actions` and `github` organizations by default, configurable per repository) are reported with ' +
    'low severity; raise it in the configuration to require SHA pins for them too. Local actions (`./path`) and ' +
    '`docker://` images are out of scope here (see `unpinned-image`).',
  remediation:
    'Replace the ref with the full commit SHA it currently points to and keep the version as a trailing comment, ' +
    'e.g. `uses: actions/checkout@<40-hex-sha> # v4.2.2`; Dependabot and Renovate keep such pins up to date.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: docker/login-action@v4',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: docker/login-action@dbcb813823bdd20940b903addbd779551569679f # v4.6.0',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'safe',
    description:
      'Replaces the ref with the full commit SHA it points to now, looked up with `git ls-remote` (`ACTIONS_GIT_BASE_URL`), ' +
      'and names the most precise version tag of that commit in a trailing comment (`@<sha> # v4.2.2`), replacing an ' +
      'old version comment and keeping others. Not offered when the ref does not resolve (unknown repository or ref, ' +
      'offline) or the reference has no `@ref`.',
  },
  check(ctx) {
    const sites = [...stepsOf(ctx.file), ...jobsOf(ctx.file)].flatMap((owner) => usesOf(owner.node) ?? []);
    const firstPartyOwners = new Set(ctx.repo.firstPartyOwners.map((owner) => owner.toLowerCase()));
    for (const site of sites) {
      const { ref } = site;
      // Malformed references (no owner/repo) are the schema rules' business; expressions are not allowed in uses.
      if (ref.kind !== 'remote' || !ref.owner || !ref.repo || hasExpression(ref.raw)) continue;
      const problem = pinProblem(site);
      if (problem === undefined) continue;
      const firstParty = firstPartyOwners.has(ref.owner.toLowerCase());
      ctx.report({
        node: site.node,
        message: `${problem}${firstParty ? ` (first-party owner \`${ref.owner}\`)` : ''}`,
        severity: firstParty ? 'low' : 'high',
        ...(ref.ref === undefined || ref.ref === '' ? { unfixable: 'the reference names no ref to resolve to a commit' } : { fix: pinFix(site) }),
      });
    }
  },
};

/** What is wrong with the reference's pin, or undefined when it is a full commit SHA. */
function pinProblem({ ref }: UsesSite): string | undefined {
  const target = ref.raw.split('@')[0] ?? ref.raw;
  const what = ref.subPath?.startsWith('.github/workflows/') ? 'reusable workflow' : 'action';
  if (ref.ref === undefined || ref.ref === '') return `${what} \`${target}\` has no \`@ref\`, so it is not pinned to a commit`;
  if (fullCommitSha.test(ref.ref)) return undefined;
  if (abbreviatedCommitSha.test(ref.ref)) {
    return `${what} \`${ref.raw}\` uses an abbreviated commit SHA; only the full 40-character SHA is unambiguous`;
  }
  return `${what} \`${ref.raw}\` is pinned to the mutable ref \`${ref.ref}\`, not to a full commit SHA`;
}
