import { jobsOf, mapEntries, mapGet, rootMap, type Rule, scalarText } from '../../rule';

/** True when the map has a `name:` with a non-empty value. */
function hasName(node: unknown): boolean {
  const name = mapGet(node, 'name');
  return name !== undefined && (scalarText(name) ?? '').trim() !== '';
}

export const unnamedDefinitionRule: Rule = {
  id: 'unnamed-definition',
  category: 'quality',
  severity: 'info',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds workflows and actions without a `name:`, and unnamed jobs in workflows where most jobs have names.',
  rationale:
    "Without `name:` GitHub shows a workflow under its file path in the Actions tab, in status checks and in " +
    'notifications, which makes runs hard to tell apart. Jobs always show their id, which is usually readable, so a ' +
    'job is only reported when most of its sibling jobs have display names: the checks list then mixes names and raw ids, and ' +
    'branch protection rules have to refer to both styles. Actions need a `name:` to be published and to be ' +
    'recognisable in logs.',
  remediation: 'Add a short, descriptive `name:` (for jobs, one in the style of the other jobs of the workflow).',
  examples: {
    bad: ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: make test', ''].join('\n'),
    good: ['name: Tests', 'on: push', 'jobs:', '  test:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: make test', ''].join('\n'),
  },
  check(ctx) {
    const root = rootMap(ctx.file);
    const [firstEntry] = mapEntries(root);
    if (!root || !firstEntry) return;
    if (!hasName(root)) {
      const isAction = ctx.file.kind === 'action';
      ctx.report({
        node: mapGet(root, 'name') ?? firstEntry.keyNode,
        severity: isAction ? 'low' : 'info',
        message: isAction
          ? 'This action has no `name:`.'
          : 'This workflow has no `name:`; GitHub shows it under its file path.',
      });
    }
    const jobs = jobsOf(ctx.file);
    const named = jobs.filter((job) => hasName(job.node));
    // Only the odd ones out: when most jobs are unnamed, ids are the workflow's naming style.
    if (named.length * 2 <= jobs.length) return;
    for (const job of jobs) {
      if (hasName(job.node)) continue;
      ctx.report({
        node: job.keyNode,
        message: `Job \`${job.id}\` has no \`name:\` while ${named.length} of the ${jobs.length} jobs in this workflow have one; its checks show the raw id.`,
      });
    }
  },
};
