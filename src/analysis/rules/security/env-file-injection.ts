import { privilegedTriggers } from '../../knowledge/untrusted-contexts';
import { isScalar } from 'yaml';
import { jobsOf, mapGet, type Rule, type RuleReport, scalarText, stepsOfJob } from '../../rule';
import { envWriteFix } from './support/env-file-rewrite';
import {
  admittedTriggers,
  fileCommandWrites,
  filledUnder,
  locateInScalar,
  randomlyDelimited,
  scopeOfStep,
  taintOfWrite,
  workflowTriggers,
} from './support/untrusted-flow';

/** Why a GITHUB_PATH write has no automatic fix: no form of writing a directory makes an attacker's one safe. */
const noPathFixReason = 'a directory named by attacker text cannot be made safe automatically; check it against the directories you expect';

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
    'Every later step of the job reads the lines of `$GITHUB_ENV` as environment variables and `$GITHUB_PATH` as `PATH` entries. A title or comment with a newline adds its own lines, for example `NODE_OPTIONS=--require=/tmp/x.js` or `BASH_ENV=...`, and the next step runs the attacker\'s code with the base repository\'s secrets. Moving the value into `env:` alone does not help here: the shell still writes it into the file. Writes in the multi-line form (`NAME<<DELIMITER`) whose delimiter the script draws at random (`openssl rand -hex 16`, `uuidgen`) are not reported, since a newline in the value cannot end the entry; writes to names such as `NODE_OPTIONS`, `LD_PRELOAD`, `BASH_ENV` or `PATH` are reported in any form. Writes to `$GITHUB_OUTPUT` are not reported by this rule, because an output only matters where it is expanded into a script; the script-injection rule follows such outputs to those places.',
  remediation:
    'Do not copy event text into `$GITHUB_ENV` or `$GITHUB_PATH`. Pass it to the steps that need it through their own `env:` (`TITLE: ${{ github.event.issue.title }}`), or validate it against a strict pattern (for example `^[A-Za-z0-9._/-]+$`) before writing it. Where a later step must read it from `$GITHUB_ENV`, write it in the multi-line form with a random delimiter: `delimiter="ghadelimiter_$(openssl rand -hex 16)"; { echo "TITLE<<${delimiter}"; printf \'%s\\n\' "$TITLE"; echo "${delimiter}"; } >> "$GITHUB_ENV"`.',
  fixes: {
    safety: 'safe',
    description:
      'Rewrites a bash or sh line `echo "NAME=value" >> "$GITHUB_ENV"` into the multi-line form with a delimiter drawn by ' +
      '`openssl rand -hex 16` (present on the Ubuntu, macOS and Windows runner images; the step fails where it is ' +
      'missing rather than using a guessable delimiter), and moves the `${{ }}` expressions of the value into the ' +
      'step\'s `env:` as the script-injection fix does. Later steps read the same value; a newline in it no longer ' +
      'adds variables. Not offered for `$GITHUB_PATH`, for names that change how programs run (`NODE_OPTIONS`, ' +
      '`LD_PRELOAD`, `BASH_ENV`, `PATH`, ...), in PowerShell and other shells, or for other line shapes (here-documents, ' +
      'quotes, backslashes or `$( )` in the value).',
  },
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
        // A write in the multi-line form with a random delimiter sets only the variable it names.
        const writes = fileCommandWrites(script).flatMap((write) =>
          write.target === 'GITHUB_OUTPUT' || randomlyDelimited(script, write) ? [] : [{ ...write, target: write.target }],
        );
        if (writes.length === 0) continue;
        const scope = scopeOfStep(ctx.file, step);
        const reported = new Set<number>();
        for (const write of writes) {
          const remedy: Pick<RuleReport, 'fix' | 'unfixable'> =
            write.target === 'GITHUB_PATH' ? { unfixable: noPathFixReason } : isScalar(runNode) ? envWriteFix(ctx.file, step, runNode, write.offset) : { unfixable: 'the script is not a plain YAML value' };
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
              ...remedy,
            });
          }
        }
      }
    }
  },
};
