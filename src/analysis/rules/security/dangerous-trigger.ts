import { visit } from 'yaml';
import { dangerousTriggers } from '../../knowledge/untrusted-contexts';
import { jobsOf, mapGet, type Rule, scalarText, stepsOfJob, triggersOf, type WorkflowFile } from '../../rule';
import { actionName, usesOf } from '../../security-sites';
import { contextPaths, findExpressions, parseExpression } from './support/expressions';
import { pullRequestCheckouts } from './support/untrusted-flow';

/** Names of the secrets the file reads (`secrets.X`, other than the always-present GITHUB_TOKEN), and `inherit`. */
function secretsRead(file: WorkflowFile): string[] {
  const names = new Set<string>();
  visit(file.doc, {
    Scalar(_, scalar) {
      if (typeof scalar.value !== 'string') return;
      for (const expression of findExpressions(scalar.value)) {
        const node = parseExpression(expression.body);
        for (const [root, name] of node ? contextPaths(node) : []) {
          // `toJSON(secrets)` and `secrets[...]` read all of them.
          if (root === 'secrets' && name !== 'github_token') names.add(name === undefined || name === '*' ? 'secrets' : name.toUpperCase());
        }
      }
    },
  });
  for (const job of jobsOf(file)) if (scalarText(mapGet(job.node, 'secrets')) === 'inherit') names.add('secrets: inherit');
  return [...names].sort();
}

/** What the file does with the privileges: checks out pull-request code, checks out any code, or neither. */
function checkoutKind(file: WorkflowFile): 'pull-request' | 'base' | undefined {
  let kind: 'base' | undefined;
  for (const job of jobsOf(file)) {
    if (pullRequestCheckouts(file, job).length > 0) return 'pull-request';
    const checksOut = stepsOfJob(job).some((step) => {
      const uses = usesOf(step.node);
      return uses !== undefined && actionName(uses.ref) === 'actions/checkout';
    });
    if (checksOut) kind = 'base';
  }
  return kind;
}

export const dangerousTriggerRule: Rule = {
  id: 'dangerous-trigger',
  category: 'security',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Flags `pull_request_target` and `workflow_run` triggers, which run with the base repository\'s secrets and write token for events that forks cause.',
  rationale:
    'Unlike `pull_request`, these triggers give the run the base repository\'s secrets, a token that can write, and its caches, while the event comes from someone without write access. They are safe only as long as the workflow never executes code or text from the pull request, and that property is easy to lose in a later edit (a checkout of the head, a build step, an expression in a script). The finding is informational when the file checks out no code and reads no secrets; it is medium when it does, because then a single mistake exposes them.',
  remediation:
    'Prefer `pull_request` for anything that builds or tests the pull request. Keep `pull_request_target` and `workflow_run` for small jobs that only label, comment or publish results, give them minimal `permissions:`, never check out or run pull-request code in them, and pass event text to scripts only through `env:`.',
  examples: {
    bad: `on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make
        env:
          TOKEN: \${{ secrets.DEPLOY_TOKEN }}
`,
    good: `on:
  pull_request:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make
`,
  },
  check(ctx) {
    const dangerous = [...triggersOf(ctx.file)].filter(([name]) => dangerousTriggers.includes(name.toLowerCase()));
    if (dangerous.length === 0) return;
    const secrets = secretsRead(ctx.file);
    const checkout = checkoutKind(ctx.file);
    const uses: string[] = [];
    if (checkout === 'pull-request') uses.push('checks out pull-request code');
    else if (checkout === 'base') uses.push('checks out the repository');
    if (secrets.length > 0) uses.push(`reads secrets (${secrets.map((name) => `\`${name}\``).join(', ')})`);
    for (const [name, { keyNode }] of dangerous) {
      const privileges = "runs with the base repository's secrets and write token for events from forks";
      ctx.report({
        node: keyNode,
        message:
          uses.length > 0
            ? `\`${name}\` ${privileges}, and this workflow ${uses.join(' and ')}.`
            : `\`${name}\` ${privileges}; this workflow checks out no code and reads no secrets, keep it that way.`,
        ...(uses.length > 0 ? {} : { severity: 'info' as const }),
      });
    }
  },
};
