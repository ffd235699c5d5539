import { isScalar, type Node, Scalar } from 'yaml';
import { jobsOf, mapGet, type Rule, type RuleContext, stepsOf } from '../../rule';

/** `true`, `false`, `${{ true }}` or `${{ false }}` as the whole condition. */
const CONSTANT_CONDITION = /^(?:(true|false)|\$\{\{\s*(true|false)\s*\}\})$/;

/**
 * The constant a condition always has, or undefined. Block scalars are left to `always-true-if`: their trailing
 * newline makes a different (always true) condition.
 */
function constantValue(node: Node | undefined): boolean | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === 'boolean') return node.value;
  if (typeof node.value !== 'string' || node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) return undefined;
  const match = CONSTANT_CONDITION.exec(node.value.trim());
  const word = match?.[1] ?? match?.[2];
  return word === undefined ? undefined : word === 'true';
}

function checkCondition(ctx: RuleContext, condition: Node | undefined, what: string): void {
  const value = constantValue(condition);
  if (value === undefined || !condition) return;
  ctx.report({
    node: condition,
    message: value
      ? `The condition of ${what} is always true; \`if:\` has no effect.`
      : `The condition of ${what} is always false; it never runs.`,
    remediation: value
      ? 'Remove the `if:` line.'
      : 'Delete the disabled code, or replace `false` with the condition under which it should run (for example a `workflow_dispatch` input).',
  });
}

export const constantIfRule: Rule = {
  id: 'constant-if',
  category: 'quality',
  severity: 'low',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Finds job and step conditions that are the constant `true` or `false`.',
  rationale:
    '`if: false` is a common way to switch a job or step off temporarily, and it tends to stay that way: the code ' +
    'keeps being maintained, reviewed and scanned although it never runs, and readers assume it does. `if: true` ' +
    'does nothing and only adds noise. Conditions that are always true by accident (text around `${{ }}`) are ' +
    'reported by `always-true-if`.',
  remediation: 'Remove `if: true`; for `if: false`, delete the disabled job or step or give it a real condition.',
  examples: {
    bad: [
      'name: Docs',
      'on: push',
      'jobs:',
      '  docs:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make docs',
      '      - if: false',
      '        run: make publish-docs',
      '',
    ].join('\n'),
    good: [
      'name: Docs',
      'on: push',
      'jobs:',
      '  docs:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make docs',
      "      - if: github.ref == 'refs/heads/main'",
      '        run: make publish-docs',
      '',
    ].join('\n'),
  },
  check(ctx) {
    for (const job of jobsOf(ctx.file)) checkCondition(ctx, mapGet(job.node, 'if'), `job \`${job.id}\``);
    for (const step of stepsOf(ctx.file)) {
      const where = step.job ? `step ${step.index + 1} of job \`${step.job.id}\`` : `step ${step.index + 1}`;
      checkCondition(ctx, mapGet(step.node, 'if'), where);
    }
  },
};
