import { privilegedTriggers } from '../../knowledge/untrusted-contexts';
import { jobsOf, mapGet, type Rule, scalarText, stepsOfJob } from '../../rule';
import {
  admittedTriggers,
  fileCommandWrites,
  filledUnder,
  locateInScalar,
  scopeOfStep,
  taintOfWrite,
  workflowTriggers,
} from './support/untrusted-flow';

/**
 * Why no automatic fix: moving the value into `env:` leaves the shell writing it into the file, and passing it to the
 * later steps that read it instead needs to know which steps those are.
 */
const noFixReason = {
  GITHUB_ENV:
    'moving the value into `env:` would not help, the shell still writes it to the file; pass it through the `env:` of the steps that read it, or validate it first',
  GITHUB_PATH: 'a directory named by attacker text cannot be made safe automatically; check it against the directories you expect',
} as const;

const targetEffect = {
  GITHUB_ENV: 'sets environment variables for every later step (`LD_PRELOAD`, `NODE_OPTIONS`, `BASH_ENV` run code)',
  GITHUB_PATH: 'puts a directory first in `PATH` for every later step',
} as const;

export const envFileInjectionRule: Rule = {
  id: 'env-file-injection',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds attacker-controlled text written to `$GITHUB_ENV` or `$GITHUB_PATH` in workflows that outsiders can trigger with privileges (`pull_request_target`, `workflow_run`, `issue_comment`, `issues`, `discussion`).',
  rationale:
    'Every later step of the job reads the lines of `$GITHUB_ENV` as environment variables and `$GITHUB_PATH` as `PATH` entries. A title or comment with a newline adds its own lines, for example `NODE_OPTIONS=--require=/tmp/x.js` or `BASH_ENV=...`, and the next step runs the attacker\'s code with the base repository\'s secrets. Moving the value into `env:` does not help here: the shell still writes it into the file. Writes to `$GITHUB_OUTPUT` are not reported by this rule, because an output only matters where it is expanded into a script; the script-injection rule follows such outputs to those places.',
  remediation:
    'Do not copy event text into `$GITHUB_ENV` or `$GITHUB_PATH`. Pass it to the steps that need it through their own `env:` (`TITLE: ${{ github.event.issue.title }}`), or validate it against a strict pattern (for example `^[A-Za-z0-9._/-]+$`) before writing it.',
  examples: {
    bad: `on:
  pull_request_target:
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: \${{ github.event.pull_request.title }}
        run: echo "PR_TITLE=$TITLE" >> "$GITHUB_ENV"
      - run: ./label.sh
`,
    good: `on:
  pull_request_target:
jobs:
  label:
    runs-on: ubuntu-latest
    steps:
      - env:
          PR_TITLE: \${{ github.event.pull_request.title }}
        run: ./label.sh "$PR_TITLE"
`,
  },
  check(ctx) {
    const triggers = workflowTriggers(ctx.file);
    if (!triggers) return;
    for (const job of jobsOf(ctx.file)) {
      for (const step of stepsOfJob(job)) {
        const runNode = mapGet(step.node, 'run');
        const script = scalarText(runNode);
        if (!runNode || script === undefined) continue;
        const admitted = admittedTriggers(triggers, job.node, step.node);
        const privileged = new Set(privilegedTriggers.filter((event) => admitted.has(event)));
        if (privileged.size === 0) continue;
        // Outputs only matter where they are expanded into a script; script-injection follows them there.
        const writes = fileCommandWrites(script).flatMap((write) => (write.target === 'GITHUB_OUTPUT' ? [] : [{ ...write, target: write.target }]));
        if (writes.length === 0) continue;
        const scope = scopeOfStep(ctx.file, step);
        const reported = new Set<number>();
        for (const write of writes) {
          for (const taint of taintOfWrite(script, write, scope)) {
            if (reported.has(taint.offset) || !filledUnder(taint.origin, privileged)) continue;
            reported.add(taint.offset);
            const source = taint.indirect
              ? `env var \`${taint.origin.context}\` (set from attacker-controlled \`${taint.origin.via ?? taint.origin.context}\`)`
              : `attacker-controlled \`${taint.origin.context}\``;
            ctx.report({
              node: runNode,
              range: locateInScalar(ctx.file, runNode, script, taint.offset, taint.text),
              message: `\`${taint.text}\` writes ${source} to \`$${write.target}\`, which ${targetEffect[write.target]}, under \`${[...privileged].join('`, `')}\`.`,
              ...(taint.indirect || taint.origin.uncertain ? { confidence: 'medium' as const } : {}),
              unfixable: noFixReason[write.target],
            });
          }
        }
      }
    }
  },
};
