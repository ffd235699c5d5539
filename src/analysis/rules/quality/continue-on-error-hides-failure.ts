import { isScalar, type Node } from 'yaml';
import { jobsOf, mapGet, rootMap, type Rule, type RuleContext, scalarText, type StepView, stepsOf, stepsOfJob } from '../../rule';
import { escapeRegExp } from '../../../util/regexp';

/** `continue-on-error: true` written literally (an expression such as `${{ matrix.experimental }}` is deliberate). */
function literalTrue(node: Node | undefined): boolean {
  return isScalar(node) && (node.value === true || (typeof node.value === 'string' && node.value.trim().toLowerCase() === 'true'));
}

/**
 * Steps whose failure is usually meant not to matter (caches, uploads, logs, notifications, cleanup), judged by
 * their name, action and first script line. They are skipped to keep the rule to failures that hide breakage.
 */
const BEST_EFFORT =
  /\b(c?cache|caches|upload|uploads|push|publish|log|logs|dump|clean|cleanup|clear|remove|delete|notify|notification|comment|label|labels|labeler|summary|report|debug|print|collect|artifacts?|save|restore|stats|telemetry)\b/i;

/** The source text of a node, for searching references in everything written after a step. */
function sourceOf(ctx: RuleContext, node: Node | undefined): string {
  const range = node?.range;
  return range ? ctx.file.text.slice(range[0], range[1]) : '';
}

/** The step, as a reader would name it: its name, its action or the first line of its script. */
function describe(step: StepView): string {
  const label = scalarText(mapGet(step.node, 'name')) ?? scalarText(mapGet(step.node, 'uses')) ?? scalarText(mapGet(step.node, 'run'))?.split('\n')[0];
  return label ? `\`${label.length > 60 ? `${label.slice(0, 57)}...` : label}\`` : `#${step.index + 1}`;
}

/**
 * Reports steps that swallow failures: the outcome of a step with `continue-on-error: true` is only visible through
 * `steps.<id>.outcome` / `steps.<id>.conclusion`, so it must be read by a later step or an output of the job/action.
 */
function checkSteps(ctx: RuleContext, steps: readonly StepView[], outputs: Node | undefined, scope: string): void {
  steps.forEach((step, position) => {
    const flag = mapGet(step.node, 'continue-on-error');
    if (!flag || !literalTrue(flag)) return;
    const purpose = ['name', 'uses', 'run'].map((key) => scalarText(mapGet(step.node, key))?.split('\n')[0] ?? '').join(' ');
    if (BEST_EFFORT.test(purpose)) return;
    const id = scalarText(mapGet(step.node, 'id'));
    if (id) {
      const reference = new RegExp(`steps\\s*(\\.\\s*${escapeRegExp(id)}|\\[\\s*['"]${escapeRegExp(id)}['"]\\s*\\])\\s*\\.\\s*(outcome|conclusion)\\b`, 'i');
      const laterText = [...steps.slice(position + 1).map((later) => sourceOf(ctx, later.node)), sourceOf(ctx, outputs)].join('\n');
      if (reference.test(laterText)) return;
    }
    ctx.report({
      node: flag,
      message: `Step ${describe(step)} in ${scope} has \`continue-on-error: true\` and nothing reads its outcome: when it fails, the run stays green.`,
      remediation: id
        ? `Check \`steps.${id}.outcome\` in a later step (e.g. \`if: steps.${id}.outcome == 'failure'\` to warn or annotate), or drop \`continue-on-error\`.`
        : 'Give the step an `id:` and check `steps.<id>.outcome` in a later step (e.g. to warn or annotate), or drop `continue-on-error`.',
    });
  });
}

export const continueOnErrorHidesFailureRule: Rule = {
  id: 'continue-on-error-hides-failure',
  category: 'quality',
  severity: 'medium',
  confidence: 'medium',
  appliesTo: ['workflow', 'action'],
  description: 'Finds steps with `continue-on-error: true` whose outcome no later step or output inspects.',
  rationale:
    'With `continue-on-error: true` a failing step is marked as succeeded for everything after it: the job and the ' +
    'run stay green and `failure()` conditions do not fire. The failure is only visible through ' +
    '`steps.<id>.outcome`; when nothing reads it, breakage such as a test suite or a security scan that stopped ' +
    'working goes unnoticed for months. Steps that are usually best-effort (caches, uploads, logs, notifications, ' +
    'cleanup, judged by their name, action and first command) are not reported, nor are expressions. Job-level ' +
    '`continue-on-error` is not reported either: the failed job stays red in the run, and it is the documented way ' +
    'to let experimental matrix legs fail.',
  remediation:
    'Either remove `continue-on-error`, or give the step an `id:` and act on `steps.<id>.outcome` in a later step ' +
    '(post a warning, annotate the summary, or fail on the branches where it matters).',
  examples: {
    bad: [
      'name: Scan',
      'on: push',
      'jobs:',
      '  scan:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '      - name: Audit dependencies',
      '        run: npm audit',
      '        continue-on-error: true',
      '',
    ].join('\n'),
    good: [
      'name: Scan',
      'on: push',
      'jobs:',
      '  scan:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v5',
      '      - name: Audit dependencies',
      '        id: audit',
      '        run: npm audit',
      '        continue-on-error: true',
      "      - if: steps.audit.outcome == 'failure'",
      '        run: echo "::warning::npm audit found problems"',
      '',
    ].join('\n'),
  },
  check(ctx) {
    if (ctx.file.kind === 'action') {
      checkSteps(ctx, stepsOf(ctx.file), mapGet(rootMap(ctx.file), 'outputs'), 'this action');
      return;
    }
    for (const job of jobsOf(ctx.file)) checkSteps(ctx, stepsOfJob(job), mapGet(job.node, 'outputs'), `job \`${job.id}\``);
  },
};
