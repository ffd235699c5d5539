import { jobsOf, type JobView, mapPair, rootMap, type Rule, type RuleContext, triggersOf, type WorkflowFile } from '../../rule';
import { usesOf } from '../../security-sites';

export const missingPermissionsRule: Rule = {
  id: 'missing-permissions',
  category: 'security',
  severity: 'medium',
  confidence: 'medium',
  appliesTo: ['workflow'],
  description: 'Workflows whose jobs run with the repository\'s default `GITHUB_TOKEN` permissions because no `permissions:` is set.',
  rationale:
    'Without a `permissions:` block, the job token gets the repository or organization default, which is read and ' +
    'write on every scope for repositories created before February 2023 and for many organizations. Any step, ' +
    'including a compromised dependency or a script injection, can then push code, publish releases or approve ' +
    'pull requests. Declaring permissions pins the token to what the workflow needs, independent of settings that ' +
    'can change. A job is covered by a top-level `permissions:` or its own. Jobs calling a reusable workflow of the ' +
    'same repository are also covered when that workflow declares permissions for all its jobs; remote reusable ' +
    'workflows cannot be checked, so their calling jobs are reported. Reusable workflows triggered only by ' +
    '`workflow_call` are not reported: their token is capped by the calling job, which is where the permissions ' +
    'belong.',
  remediation:
    'Add `permissions: contents: read` (or `permissions: {}`) at the top of the workflow and grant write scopes only ' +
    'in the jobs that need them.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'permissions:',
      '  contents: read',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    if (!root || mapPair(root, 'permissions')) return;
    const triggers = [...triggersOf(ctx.file).keys()];
    if (triggers.length > 0 && triggers.every((trigger) => trigger === 'workflow_call')) return;
    const jobs = jobsOf(ctx.file);
    const uncovered = jobs.filter((job) => !mapPair(job.node, 'permissions') && !calleeDeclaresPermissions(ctx, job));
    if (uncovered.length === 0) return;
    const anyJobDeclares = jobs.some((job) => mapPair(job.node, 'permissions'));
    if (!anyJobDeclares) {
      const anchor = mapPair(root, 'on')?.key ?? mapPair(root, 'jobs')?.key ?? root;
      ctx.report({
        node: anchor,
        message:
          `workflow has no \`permissions:\`, so ${uncovered.length === 1 ? 'its job runs' : `its ${uncovered.length} jobs run`} ` +
          'with the repository\'s default token permissions',
      });
      return;
    }
    for (const job of uncovered) {
      ctx.report({
        node: job.keyNode,
        message: `job \`${job.id}\` has no \`permissions:\` and the workflow sets none, so it runs with the repository's default token permissions`,
      });
    }
  },
};

/** True when the job calls a reusable workflow of this repository that declares permissions for all of its jobs. */
function calleeDeclaresPermissions(ctx: RuleContext, job: JobView): boolean {
  const uses = usesOf(job.node);
  if (uses?.ref.kind !== 'local') return false;
  // `./path` and the self-repository form `$/path` both name a file of this repository.
  const calleePath = uses.ref.raw.replace(/^(?:\.\/|\$\/)/, '').split('@')[0];
  const callee = ctx.repo.workflowFiles.find((file) => file.path === calleePath);
  return callee !== undefined && declaresPermissionsForAllJobs(callee);
}

function declaresPermissionsForAllJobs(file: WorkflowFile): boolean {
  const root = rootMap(file);
  if (!root) return false;
  if (mapPair(root, 'permissions')) return true;
  const jobs = jobsOf(file);
  return jobs.length > 0 && jobs.every((job) => mapPair(job.node, 'permissions'));
}
