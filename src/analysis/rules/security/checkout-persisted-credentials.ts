import { isUnfixable, setNestedPair } from '../../edit/yaml-edits';
import { type FixPlan, jobsOf, mapGet, type RepositoryView, rootMap, type Rule, scalarText, stepsOf, stepsOfJob, type StepView, type WorkflowFile } from '../../rule';
import { actionName, booleanValue, majorVersion, usesOf, withInput } from '../../security-sites';
import { localActionSteps, stepAction } from '../cost-facts';

/** Actions that run `git push` with the credential actions/checkout leaves behind instead of their own token. */
const gitPushingActions = new Set([
  'stefanzweifel/git-auto-commit-action',
  'endbug/add-and-commit',
  'changesets/action',
  'korthout/backport-action',
  'jbolda/covector/packages/action',
]);

/**
 * Actions that fetch from the repository with the credential actions/checkout leaves behind (to diff against a
 * base branch): after the fix they could not read a private repository.
 */
const gitFetchingActions = new Set(['tj-actions/changed-files', 'dorny/paths-filter', 'reviewdog/action-suggester']);

/** `git push`, also with global options such as `git -C dir push`. */
const gitPushCommand = /\bgit(?:\s+-{1,2}[\w-]+(?:[= ](?!push\b)\S+)?)*\s+push\b/;
/** git commands that read from a remote, which in a private repository need the persisted credential. */
const gitRemoteReadCommand = /\bgit(?:\s+-{1,2}[\w-]+(?:[= ]\S+)?)*\s+(fetch|pull|ls-remote|submodule|clone)\b/;
/** A push that brings its own credential in the remote URL does not need the persisted one. */
const inlineCredential = /:\/\/[^\s/@]+@/;

export const checkoutPersistedCredentialsRule: Rule = {
  id: 'checkout-persisted-credentials',
  category: 'security',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: '`actions/checkout` leaves the job token on disk for later steps (`persist-credentials` not disabled).',
  rationale:
    'By default actions/checkout writes the job\'s `GITHUB_TOKEN` (or the token you pass it) into the checkout\'s ' +
    'git configuration so later `git` commands are authenticated. Every later step, including third-party actions ' +
    'and build scripts, can read it from disk, and uploading the workspace as an artifact can publish it (the ' +
    '"ArtiPACKED" attack). Checkout v6 and later keep the credential under `$RUNNER_TEMP` instead of `.git/config`, ' +
    'which removes the artifact risk, so those versions are reported with low severity. Jobs that push with git later ' +
    '(`git push` in a script without its own credential, or actions such as git-auto-commit-action, changesets/action ' +
    'and backport-action that push with the checkout credential) need it and are not reported.',
  remediation:
    'Add `persist-credentials: false` to the checkout step\'s `with:`. If a later step needs to push, pass a token ' +
    'to that step explicitly instead of relying on the persisted credential.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - run: make',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '        with:',
      '          persist-credentials: false',
      '      - run: make',
      '',
    ].join('\n'),
  },
  fixes: {
    safety: 'safe',
    description:
      'Sets `persist-credentials: false` in the checkout step\'s `with:` (adding `with:` when missing). Not offered ' +
      'when a later step of the job reads the remote with git (`git fetch`, `pull`, `submodule`, actions that diff ' +
      'against a base branch) or runs a local action that does, or when the job\'s token may write the repository ' +
      '(`contents: write`, `write-all`): a script of such a job may push with the credential.',
  },
  check(ctx) {
    const stepLists = ctx.file.kind === 'workflow' ? jobsOf(ctx.file).map(stepsOfJob) : [stepsOf(ctx.file)];
    for (const steps of stepLists) {
      steps.forEach((step, index) => {
        const uses = usesOf(step.node);
        if (!uses || actionName(uses.ref) !== 'actions/checkout') return;
        const persistInput = withInput(step.node, 'persist-credentials');
        const persist = booleanValue(persistInput);
        // An expression decides at run time; `false` is the fix itself.
        if (persist === false || persist === 'expression') return;
        if (steps.slice(index + 1).some(pushesWithGit)) return;
        const major = majorVersion(ctx.file, uses);
        const storedOutsideWorkspace = major !== undefined && major >= 6;
        const where = step.job ? `job \`${step.job.id}\`` : 'this action';
        const credentialUser =
          contentsWriteAccess(ctx.file, step) ?? steps.slice(index + 1).map((later) => credentialUse(ctx.repo, later)).find((use) => use !== undefined);
        ctx.report({
          node: persist === true && persistInput ? persistInput : uses.node,
          message:
            `actions/checkout in ${where} ${persist === true ? 'explicitly keeps' : 'keeps'} the job token ` +
            `${storedOutsideWorkspace ? 'under $RUNNER_TEMP' : 'in .git/config'} for every later step, and no later step pushes with git`,
          severity: storedOutsideWorkspace ? 'low' : 'medium',
          ...(credentialUser === undefined ? { fix: disablePersistedCredentials(step) } : { unfixable: credentialUser }),
        });
      });
    }
  },
};

/** Safe: no later step of the job reads the remote with git, and a push would have kept the rule silent. */
function disablePersistedCredentials(step: StepView): FixPlan {
  return {
    safety: 'safe',
    title: 'Set `persist-credentials: false` on actions/checkout',
    edits: ({ file }) => {
      const edit = setNestedPair(file, step.node, 'with', 'persist-credentials', false);
      return isUnfixable(edit) ? edit : [edit];
    },
  };
}

/**
 * Why the fix is withheld for a job whose token may write the repository: such jobs often push from a script the
 * analysis cannot read (`node scripts/release.ts`), and that push would break without the persisted credential.
 */
function contentsWriteAccess(file: WorkflowFile, step: StepView): string | undefined {
  if (step.job === undefined) return undefined;
  const jobPermissions = mapGet(step.job.node, 'permissions');
  const permissions = jobPermissions ?? mapGet(rootMap(file), 'permissions');
  const grant = scalarText(permissions) === 'write-all' ? 'write-all' : scalarText(mapGet(permissions, 'contents')) === 'write' ? 'contents: write' : undefined;
  return grant === undefined
    ? undefined
    : `job \`${step.job.id}\` may write to the repository (\`${grant}\`), so one of its scripts may push with the persisted credential; disable it by hand once you know none does`;
}

function stepLabel(step: StepView): string {
  return scalarText(mapGet(step.node, 'name')) ?? scalarText(mapGet(step.node, 'id')) ?? `#${step.index + 1}`;
}

/** Why a later step may need the persisted credential (so the fix could break it), or undefined when none does. */
function credentialUse(repo: RepositoryView, step: StepView): string | undefined {
  const action = stepAction(step);
  if (action !== undefined && gitFetchingActions.has(action.name)) {
    return `step \`${stepLabel(step)}\` (${action.name}) fetches with the persisted credential`;
  }
  if (action?.ref.kind === 'local') {
    const actionSteps = localActionSteps(repo, action);
    if (actionSteps === undefined) return `what the local action of step \`${stepLabel(step)}\` (${action.ref.raw}) does with git is unknown`;
    const inner = actionSteps.map((innerStep) => credentialUse(repo, innerStep) ?? (pushesWithGit(innerStep) ? 'pushes' : undefined)).find((use) => use !== undefined);
    return inner === undefined ? undefined : `step \`${stepLabel(step)}\` runs the local action ${action.ref.raw}, which uses the persisted credential`;
  }
  const command = (scalarText(mapGet(step.node, 'run')) ?? '').split('\n').map((line) => gitRemoteReadCommand.exec(line)?.[1]).find((found) => found !== undefined);
  return command === undefined ? undefined : `step \`${stepLabel(step)}\` runs \`git ${command}\`, which may need the persisted credential`;
}

function pushesWithGit(step: StepView): boolean {
  const uses = usesOf(step.node);
  const name = uses ? actionName(uses.ref) : undefined;
  if (name !== undefined && gitPushingActions.has(name)) return true;
  const script = scalarText(mapGet(step.node, 'run')) ?? '';
  return script.split('\n').some((line) => gitPushCommand.test(line) && !inlineCredential.test(line));
}
