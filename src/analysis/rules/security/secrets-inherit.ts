import { jobsOf, mapGet, type Rule, scalarText } from '../../rule';

export const secretsInheritRule: Rule = {
  id: 'secrets-inherit',
  category: 'security',
  severity: 'medium',
  confidence: 'high',
  appliesTo: ['workflow'],
  description: 'Reusable-workflow calls that pass every secret of the caller with `secrets: inherit`.',
  rationale:
    '`secrets: inherit` gives the called workflow all repository, organization and environment secrets the caller ' +
    'can see, not just the ones it uses. Any step in the called workflow, or in a later version of it when the ' +
    'reference is not pinned, can read and exfiltrate secrets it never needed. Passing secrets by name documents ' +
    'what the callee receives and keeps new secrets from flowing to it automatically.',
  remediation:
    'Replace `secrets: inherit` with the secrets the called workflow declares under `on.workflow_call.secrets`, e.g. ' +
    '`secrets: { NPM_TOKEN: ${{ secrets.NPM_TOKEN }} }`.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  release:',
      '    uses: ./.github/workflows/release.yml',
      '    secrets: inherit',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  release:',
      '    uses: ./.github/workflows/release.yml',
      '    secrets:',
      '      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}',
      '',
    ].join('\n'),
  },
  check(ctx) {
    for (const job of jobsOf(ctx.file)) {
      const secrets = mapGet(job.node, 'secrets');
      if (!secrets || scalarText(secrets)?.trim() !== 'inherit') continue;
      const callee = scalarText(mapGet(job.node, 'uses'));
      ctx.report({
        node: secrets,
        message: `job \`${job.id}\` passes all of its secrets to ${callee ? `\`${callee}\`` : 'the called workflow'} with \`secrets: inherit\``,
      });
    }
  },
};
