import { isMap, type Node } from 'yaml';
import { jobsOf, mapEntries, mapGet, mapPair, rootMap, type Rule, type RuleContext, scalarText } from '../../rule';

/** How many job names a message lists before summarizing the rest. */
const listedJobs = 5;

export const overbroadPermissionsRule: Rule = {
  id: 'overbroad-permissions',
  category: 'security',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow'],
  description: '`GITHUB_TOKEN` permissions broader than the jobs need: `write-all`, `read-all`, or write scopes shared by several jobs.',
  rationale:
    '`permissions: write-all` hands every step write access to code, releases, packages, issues and more; ' +
    '`read-all` exposes every readable scope (security alerts, actions, deployments) where usually only `contents` ' +
    'is needed. A write scope declared at the top of a workflow applies to every job that does not declare its own ' +
    'permissions, so a test or lint job ends up able to push or publish because one release job needed to. Scoping ' +
    'writes to the job that uses them limits what a compromised step can do. `write-all` is reported with high ' +
    'severity, `read-all` with low severity (OpenSSF Scorecard accepts it at the top level, but it still grants ' +
    'more than needed). A top-level write scope is reported only when at least two jobs inherit it; with a single ' +
    'job the top level and the job are equivalent.',
  remediation:
    'Set `permissions: contents: read` (or `{}`) at the top of the workflow and move each write scope into the ' +
    '`permissions:` of the job that needs it; replace `write-all`/`read-all` with the individual scopes in use.',
  examples: {
    bad: [
      'on: push',
      'permissions: write-all',
      'jobs:',
      '  release:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: gh release create "$GITHUB_REF_NAME"',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'permissions:',
      '  contents: read',
      'jobs:',
      '  release:',
      '    runs-on: ubuntu-latest',
      '    permissions:',
      '      contents: write',
      '    steps:',
      '      - run: gh release create "$GITHUB_REF_NAME"',
      '',
    ].join('\n'),
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    if (!root) return;
    const jobs = jobsOf(ctx.file);
    const workflowPermissions = mapGet(root, 'permissions');
    const inheriting = jobs.filter((job) => !mapPair(job.node, 'permissions')).map((job) => `\`${job.id}\``);
    checkShorthand(ctx, workflowPermissions, 'workflow', inheriting.length > 0);
    for (const job of jobs) checkShorthand(ctx, mapGet(job.node, 'permissions'), `job \`${job.id}\``, true);

    if (!isMap(workflowPermissions) || inheriting.length < 2) return;
    const jobList =
      inheriting.length > listedJobs
        ? `${inheriting.slice(0, listedJobs).join(', ')} and ${inheriting.length - listedJobs} more`
        : inheriting.join(', ');
    for (const { key, value, pair } of mapEntries(workflowPermissions)) {
      if (scalarText(value) !== 'write') continue;
      ctx.report({
        node: pair,
        message: `\`${key}: write\` at workflow level is granted to ${inheriting.length} jobs (${jobList}); grant it only in the jobs that need it`,
      });
    }
  },
};

/**
 * Reports `write-all` always (a job added later inherits it) and `read-all` only where it applies to a job: a
 * top-level `read-all` that every job overrides grants nothing.
 */
function checkShorthand(ctx: RuleContext, permissions: Node | undefined, where: string, appliesToAJob: boolean): void {
  const value = scalarText(permissions);
  if (!permissions || value === undefined) return;
  if (value === 'write-all') {
    ctx.report({ node: permissions, message: `${where} grants \`write-all\`: every step can write to every scope of the repository`, severity: 'high' });
  } else if (value === 'read-all' && appliesToAJob) {
    ctx.report({
      node: permissions,
      message: `${where} grants \`read-all\`: every scope is readable, usually only \`contents: read\` is needed`,
      severity: 'low',
    });
  }
}
