import { isScalar, type Scalar } from 'yaml';
import { jobsOf, mapGet, type Rule, stepsOf, type WorkflowFile } from '../../rule';
import { findExpressions, parseExpression } from './support/expressions';

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
  check(ctx) {
    for (const { node, owner } of conditionsOf(ctx.file)) {
      if (typeof node.value !== 'string') continue;
      const found = alwaysTrueReason(node.value);
      if (!found) continue;
      ctx.report({
        node,
        message: `The \`if:\` of ${owner} is always true: ${found.reason}.`,
        remediation: found.remediation,
      });
    }
  },
};
