import { isScalar, type Scalar } from 'yaml';
import { contentEndOf, isBlockScalar, startOf } from '../../edit/layout';
import { isUnfixable, renderScalar, replaceScalar } from '../../edit/yaml-edits';
import { type FixPlan, jobsOf, mapGet, type Rule, type RuleReport, stepsOf, type WorkflowFile } from '../../rule';
import { expressionShape, findExpressions, parseExpression } from './support/expressions';

/** Why a condition is always true, with the matching remediation; undefined when it is a real condition. */
function alwaysTrueReason(text: string): { reason: string; remediation: string } | undefined {
  const embedded = findExpressions(text);
  const only = embedded[0];
  if (embedded.length > 1) {
    return {
      reason: `it holds ${embedded.length} \`\${{ }}\` expressions, so GitHub renders it as text, and any non-empty text is true`,
      remediation: `Write the whole condition as one expression: \`\${{ ${embedded.map((expression) => expression.body.trim()).join(' && ')} }}\` (with the operator you meant), or without braces.`,
    };
  }
  if (only && only.text !== text) {
    const onlyWhitespace = text.replace(only.text, '').trim() === '';
    return onlyWhitespace
      ? {
          reason: 'the block scalar keeps a line break after `}}`, so GitHub renders it as text, and any non-empty text is true',
          remediation: `Strip the line break with \`>-\` or \`|-\`, or write the condition on one line: \`if: ${only.text}\`.`,
        }
      : {
          reason: 'text outside `${{ }}` makes GitHub render it as text, and any non-empty text is true',
          remediation: 'Put the whole condition inside the braces, or drop the braces: an `if:` is an expression already.',
        };
  }
  const node = parseExpression(only ? only.body : text);
  if (node?.kind === 'literal' && typeof node.value === 'string' && node.value !== '' && node.value.toLowerCase() !== 'true') {
    return {
      reason: `it is the string literal '${node.value}', and any non-empty string is true`,
      remediation: 'Write the condition as an expression without quotes around it (for example `if: false` or `if: success()`).',
    };
  }
  return undefined;
}

/**
 * The one expression a template condition was meant to be: every `${{ }}` unwrapped, the text around them kept, the
 * whole wrapped in one `${{ }}`. A body keeps parentheses only where the text around it would otherwise bind into it
 * (`${{ a || b }} && c`). Undefined when that is no valid expression (`Deploy ${{ x }}`).
 */
function intendedCondition(text: string): string | undefined {
  const embedded = findExpressions(text);
  if (embedded.length === 0) return undefined;
  const bodies = embedded.map((expression) => expression.body.trim());
  const join = (parenthesized: readonly boolean[]): string => {
    let joined = '';
    let position = 0;
    embedded.forEach((expression, index) => {
      const body = bodies[index] ?? '';
      joined += text.slice(position, expression.offset) + (parenthesized[index] === true ? `(${body})` : body);
      position = expression.offset + expression.text.length;
    });
    return (joined + text.slice(position)).trim().replace(/\s*[\r\n]\s*/g, ' ');
  };
  const parenthesized = embedded.map(() => true);
  const meant = parseExpression(join(parenthesized));
  if (meant === undefined || join(parenthesized).includes('${{')) return undefined;
  const shape = expressionShape(meant);
  parenthesized.forEach((_, index) => {
    const without = parenthesized.map((kept, at) => kept && at !== index);
    const node = parseExpression(join(without));
    if (node !== undefined && expressionShape(node) === shape) parenthesized[index] = false;
  });
  return `\${{ ${join(parenthesized)} }}`;
}

/**
 * Safe: GitHub never evaluated the template; the rewrite makes it the condition its author wrote, which is the
 * flagged problem going away. A `|` or `>` scalar becomes a one-line plain or quoted one.
 */
function evaluateAsExpression(node: Scalar, condition: string): FixPlan {
  return {
    safety: 'safe',
    title: `Make the \`if:\` the expression \`${condition}\``,
    edits: ({ file }) => {
      if (!isBlockScalar(node)) {
        const edit = replaceScalar(file, node, condition);
        return isUnfixable(edit) ? edit : [edit];
      }
      return [{ start: startOf(node), end: contentEndOf(file.text, node), text: renderScalar(condition) }];
    },
  };
}

function fixOf(text: string, node: Scalar): Pick<RuleReport, 'fix' | 'unfixable'> {
  const condition = intendedCondition(text);
  // A quoted string literal stays one when unwrapped: what was meant is unknown.
  return condition === undefined || alwaysTrueReason(condition) !== undefined
    ? { unfixable: 'the intended condition is unclear: the text around `${{ }}` does not make one expression with it' }
    : { fix: evaluateAsExpression(node, condition) };
}

function conditionsOf(file: WorkflowFile): Array<{ node: Scalar; owner: string }> {
  const found: Array<{ node: Scalar; owner: string }> = [];
  for (const job of jobsOf(file)) {
    const node = mapGet(job.node, 'if');
    if (isScalar(node)) found.push({ node, owner: `job \`${job.id}\`` });
  }
  for (const step of stepsOf(file)) {
    const node = mapGet(step.node, 'if');
    const name = mapGet(step.node, 'name');
    const label = isScalar(name) && typeof name.value === 'string' ? `step \`${name.value}\`` : `step #${step.index + 1}`;
    if (isScalar(node)) found.push({ node, owner: step.job ? `${label} of job \`${step.job.id}\`` : label });
  }
  return found;
}

export const alwaysTrueIfRule: Rule = {
  id: 'always-true-if',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds `if:` conditions that are always true because of text around `${{ }}`, several `${{ }}` in one value, a line break kept by a block scalar, or a quoted string literal.',
  rationale:
    "GitHub evaluates an `if:` as an expression only when the value is plain expression text or exactly one `${{ }}`. Anything else, including the line break that `|` and `>` keep after `}}`, turns the value into a text template, and a non-empty text is true. `if: ${{ github.actor == 'x' }} && ${{ github.event_name == 'push' }}` or a `|` block around one expression therefore always runs the job or step, often a deploy or release step that was meant to be guarded.",
  remediation:
    'Write the condition as one expression: either without braces (`if: a && b`) or as a single `${{ a && b }}` with nothing around it. Use `>-` or `|-` for multi-line conditions so no line break follows `}}`.',
  examples: {
    bad: `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    if: \${{ github.ref == 'refs/heads/main' }} && \${{ github.repository == 'acme/app' }}
    steps:
      - run: ./deploy.sh
`,
    good: `on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    if: github.ref == 'refs/heads/main' && github.repository == 'acme/app'
    steps:
      - run: ./deploy.sh
`,
  },
  fixes: {
    safety: 'safe',
    description:
      'Rewrites the value into the one expression it spells: `${{ a }} && ${{ b }}` becomes `${{ a && b }}`, a `|` or ' +
      '`>` block around one expression becomes `${{ a }}`. Not offered when the text around `${{ }}` makes no ' +
      'expression (`Deploy ${{ x }}`) or the condition is a quoted string literal.',
  },
  check(ctx) {
    for (const { node, owner } of conditionsOf(ctx.file)) {
      if (typeof node.value !== 'string') continue;
      const found = alwaysTrueReason(node.value);
      if (!found) continue;
      ctx.report({
        node,
        message: `The \`if:\` of ${owner} is always true: ${found.reason}.`,
        remediation: found.remediation,
        ...fixOf(node.value, node),
      });
    }
  },
};
