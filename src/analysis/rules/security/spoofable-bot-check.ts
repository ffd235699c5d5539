import { isScalar, type Node, type Scalar } from 'yaml';
import { forkPullRequestTriggers, privilegedTriggers } from '../../knowledge/untrusted-contexts';
import { editScalarValue } from '../../edit/scalar-edits';
import { type FixPlan, jobsOf, mapGet, type Rule, type RuleReport, scalarText, stepsOf } from '../../rule';
import { contextPath, type ExpressionNode, parseCondition } from './support/expressions';
import { admittedTriggers, locateInScalar, workflowTriggers } from './support/untrusted-flow';

/** Contexts naming whoever caused the latest event: a bot can be made to cause an event on someone else's PR. */
const actorContexts = ['github.actor', 'github.triggering_actor', 'github.event.sender.login'];

/** Contexts naming the author of the pull request, which later events cannot change. */
const authorContexts = ['github.event.pull_request.user.login'];

/** Triggers where someone without write access can make a bot the actor of an event. */
const spoofableTriggers = new Set([...forkPullRequestTriggers, 'workflow_run', 'issue_comment']);

function literalText(node: ExpressionNode | undefined): string | undefined {
  if (node?.kind === 'literal' && typeof node.value === 'string') return node.value.toLowerCase();
  // contains(fromJSON('["dependabot[bot]", ...]'), github.actor): the list is the JSON text.
  if (node?.kind === 'call' && node.name.toLowerCase() === 'fromjson') return literalText(node.args[0]);
  return undefined;
}

function namesBot(node: ExpressionNode | undefined): boolean {
  return literalText(node)?.includes('[bot]') ?? false;
}

/**
 * The context a bot test reads, when `node` is one: `context == '...[bot]'` (either order), contains/startsWith/
 * endsWith of the context and a bot name, or contains() of a bot list and the context.
 */
function botTestContext(node: ExpressionNode, contexts: readonly string[]): string | undefined {
  const named = (side: ExpressionNode | undefined): string | undefined => {
    const path = side && contextPath(side)?.join('.');
    return path !== undefined && contexts.includes(path) ? path : undefined;
  };
  if (node.kind === 'binary' && node.operator === '==') {
    if (namesBot(node.right)) return named(node.left);
    if (namesBot(node.left)) return named(node.right);
    return undefined;
  }
  if (node.kind === 'call' && ['contains', 'startswith', 'endswith'].includes(node.name.toLowerCase())) {
    const [first, second] = node.args;
    if (namesBot(second)) return named(first);
    if (node.name.toLowerCase() === 'contains' && namesBot(first)) return named(second);
  }
  return undefined;
}

interface ActorTest {
  node: ExpressionNode;
  context: string;
}

/** The actor context inside a bot test (a side of `==`, an argument of contains() and the like). */
function actorNodeOf(test: ExpressionNode): ExpressionNode | undefined {
  const operands = test.kind === 'binary' ? [test.left, test.right] : test.kind === 'call' ? test.args : [];
  return operands.find((operand) => {
    const path = contextPath(operand)?.join('.');
    return path !== undefined && actorContexts.includes(path);
  });
}

/**
 * The pull request's author, which later events cannot change; zizmor's bot-conditions fix and GitHub's Dependabot
 * docs check it instead of the actor.
 */
const authorContext = 'github.event.pull_request.user.login';

/**
 * Unsafe: for the bot's own pull requests the condition holds as before and it no longer holds when the bot acts on
 * someone else's, but it now also holds when someone else (a maintainer pushing, re-running) acts on the bot's.
 */
function checkAuthor(ifNode: Scalar, valueStart: number, valueEnd: number): FixPlan {
  return {
    safety: 'unsafe',
    title: `Check \`${authorContext}\` instead of the actor`,
    edits: ({ file }) => editScalarValue(file, ifNode, [{ start: valueStart, end: valueEnd, text: authorContext }]),
  };
}

/** The fix of one actor test, or why not: only events with a pull request in their payload have its author. */
function fixOf(ifNode: Node, test: ExpressionNode, bodyOffset: number, events: readonly string[]): Pick<RuleReport, 'fix' | 'unfixable'> {
  const withoutAuthor = events.filter((event) => !forkPullRequestTriggers.includes(event));
  if (withoutAuthor.length > 0) {
    return { unfixable: `the condition also runs for \`${withoutAuthor.join('`, `')}\`, whose events carry no pull request author` };
  }
  const actor = actorNodeOf(test);
  if (!isScalar(ifNode) || actor === undefined) return { unfixable: 'the bot test has no actor context to replace' };
  return { fix: checkAuthor(ifNode, bodyOffset + actor.start, bodyOffset + actor.end) };
}

/** Bot tests of the actor that grant something: not under `!` (excluding bots is harmless to spoof). */
function grantingActorTests(node: ExpressionNode, negated = false): ActorTest[] {
  const context = botTestContext(node, actorContexts);
  if (context !== undefined) return negated ? [] : [{ node, context }];
  switch (node.kind) {
    case 'not':
      return grantingActorTests(node.operand, !negated);
    case 'binary':
      return node.operator === '&&' || node.operator === '||'
        ? [...grantingActorTests(node.left, negated), ...grantingActorTests(node.right, negated)]
        : [];
    default:
      return [];
  }
}

/** True when a `&&` operand also checks the pull request's author, which makes the actor test redundant. */
function checksAuthorToo(node: ExpressionNode): boolean {
  if (botTestContext(node, authorContexts) !== undefined) return true;
  if (node.kind === 'binary' && node.operator === '&&') return checksAuthorToo(node.left) || checksAuthorToo(node.right);
  return false;
}

/** Without a pull request in the payload there is no author to check; trust what the run is, not who caused it. */
const nonPullRequestRemediation =
  "Do not grant anything because of who caused the event. For `workflow_run`, check where the run's code comes from instead (`github.event.workflow_run.head_repository.full_name == github.repository`); for comments, check the commenter's `github.event.comment.author_association`.";

export const spoofableBotCheckRule: Rule = {
  id: 'spoofable-bot-check',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds `if:` conditions that trust a run because `github.actor` (or `github.triggering_actor`, `github.event.sender.login`) is a bot such as `dependabot[bot]`.',
  rationale:
    "`github.actor` is whoever caused the latest event, not who wrote the code. An attacker can open a pull request and then make a bot act on it (for example by getting Dependabot to update a branch of their fork, or by a bot re-running checks), so the run sees `dependabot[bot]` as actor while the code is theirs. Auto-merge and auto-approve jobs guarded this way merge attacker code; under `pull_request_target` and `workflow_run` they also hand out secrets.",
  remediation:
    "Check who opened the pull request instead: `github.event.pull_request.user.login == 'dependabot[bot]'`. It names the pull request's author and later events cannot change it.",
  examples: {
    bad: `on: pull_request_target
jobs:
  automerge:
    runs-on: ubuntu-latest
    if: github.actor == 'dependabot[bot]'
    steps:
      - run: gh pr merge --auto --squash "$PR_URL"
        env:
          PR_URL: \${{ github.event.pull_request.html_url }}
          GH_TOKEN: \${{ secrets.GITHUB_TOKEN }}
`,
    good: `on: pull_request_target
jobs:
  automerge:
    runs-on: ubuntu-latest
    if: github.event.pull_request.user.login == 'dependabot[bot]'
    steps:
      - run: gh pr merge --auto --squash "$PR_URL"
        env:
          PR_URL: \${{ github.event.pull_request.html_url }}
          GH_TOKEN: \${{ secrets.GITHUB_TOKEN }}
`,
  },
  fixes: {
    safety: 'unsafe',
    description:
      'Replaces the actor in the bot test with the pull request\'s author (`github.actor == \'dependabot[bot]\'` becomes ' +
      '`github.event.pull_request.user.login == \'dependabot[bot]\'`), when the job or step runs only for pull request ' +
      'events. Unsafe: the condition now also holds when someone else acts on the bot\'s pull request.',
  },
  check(ctx) {
    const triggers = workflowTriggers(ctx.file);
    if (!triggers) return;
    const owners: Array<{ owner: Node; job: Node | undefined }> = [
      ...jobsOf(ctx.file).map((job) => ({ owner: job.node, job: undefined })),
      ...stepsOf(ctx.file).map((step) => ({ owner: step.node, job: step.job?.node })),
    ];
    for (const { owner, job } of owners) {
      const ifNode = mapGet(owner, 'if');
      const text = scalarText(ifNode);
      if (!ifNode || text === undefined) continue;
      const condition = parseCondition(text);
      if (!condition || checksAuthorToo(condition.node)) continue;
      const events = [...admittedTriggers(triggers, job, owner)];
      const admitted = events.filter((event) => spoofableTriggers.has(event));
      if (admitted.length === 0) continue;
      const privileged = admitted.some((event) => privilegedTriggers.includes(event));
      const forPullRequests = admitted.some((event) => forkPullRequestTriggers.includes(event));
      for (const test of grantingActorTests(condition.node)) {
        const snippet = condition.body.slice(test.node.start, test.node.end);
        ctx.report({
          node: ifNode,
          range: locateInScalar(ctx.file, ifNode, text, condition.bodyOffset + test.node.start, snippet),
          message: `\`${snippet}\` trusts the run because \`${test.context}\` is a bot, but under \`${admitted.join('`, `')}\` anyone can make a bot the actor of an event on their pull request.`,
          ...(forPullRequests ? {} : { remediation: nonPullRequestRemediation }),
          ...(privileged ? {} : { severity: 'medium' as const }),
          ...fixOf(ifNode, test.node, condition.bodyOffset, events),
        });
      }
    }
  },
};
