/**
 * Properties of fixRepository on generated workflows (triggers, jobs, steps with `uses:` in every quoting and flow
 * style, run scripts, env, comments, CRLF), with every safe and unsafe fix and a lookup that resolves every action
 * ref: fixing is idempotent (fixing the output changes nothing), and the output never gets a yaml-syntax or
 * schema-violation finding the input did not have. The seed is printed; FC_SEED=<seed> replays a run.
 */
import fc from 'fast-check';
import { repositoryFromFiles } from '../../src/analysis/discover';
import { analyzeRepository } from '../../src/analysis/engine';
import { allRules } from '../../src/analysis/rules';
import { fixRepository } from '../../src/fixes/fix-repository';
import { everyActionRefResolves } from '../support/action-refs';

const PATH = '.github/workflows/generated.yml';
const VALIDITY_RULES = ['yaml-syntax', 'schema-violation'];
const validityRules = allRules.filter((rule) => VALIDITY_RULES.includes(rule.id));
const RUNS = 100;

const comment = fc.constantFrom('', ' # v4', ' # keep this', ' #', '   # v1.2.3 (pinned by hand)');
const actionRef = fc.constantFrom(
  'actions/checkout@v4',
  'actions/setup-node@v4.1.0',
  'github/codeql-action/init@v3',
  'docker/login-action@main',
  'some-org/tool@1234567',
  'actions/cache@v3',
  'actions/upload-artifact@v3',
  'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683',
  'owner/repo/.github/workflows/reusable.yml@v1',
);

/** `uses: <ref>` plain, single- or double-quoted, optionally with a trailing comment. */
const usesValue = fc
  .tuple(actionRef, fc.constantFrom('plain', 'single', 'double'), comment)
  .map(([ref, style, trailing]) => `${style === 'plain' ? ref : style === 'single' ? `'${ref}'` : `"${ref}"`}${trailing}`);

const script = fc.constantFrom(
  'make test',
  'echo "${{ github.event.issue.title }}"',
  'npm install',
  'git push origin HEAD',
  'echo "::set-output name=x::1"',
  'curl -fsSL https://example.com/install.sh | bash',
);

/** One step as lines at `indent` (the column of its `- `). */
const step = fc
  .record({
    kind: fc.constantFrom('uses', 'run', 'block-run', 'flow-uses'),
    uses: usesValue,
    ref: actionRef,
    run: script,
    name: fc.option(fc.constantFrom('Build', 'Test it', "'quoted: name'"), { nil: undefined }),
    env: fc.option(fc.constantFrom('TOKEN: ${{ secrets.TOKEN }}', 'CI: "true"'), { nil: undefined }),
    withCredentials: fc.boolean(),
    ownLineComment: fc.boolean(),
  })
  .map((shape) => (indent: string): string[] => {
    const inner = `${indent}  `;
    const lines: string[] = shape.ownLineComment ? [`${indent}# a comment about the next step`] : [];
    if (shape.kind === 'flow-uses') return [...lines, `${indent}- { uses: ${shape.ref}, with: { fetch-depth: 0 } }`];
    const first = shape.name === undefined ? undefined : `name: ${shape.name}`;
    const body =
      shape.kind === 'uses'
        ? [`uses: ${shape.uses}`, ...(shape.withCredentials ? ['with:', '  persist-credentials: true'] : [])]
        : shape.kind === 'run'
          ? [`run: ${shape.run}`]
          : ['run: |', `  ${shape.run}`, '  echo done'];
    const all = [...(first ? [first] : []), ...body, ...(shape.env ? ['env:', `  ${shape.env}`] : [])];
    return [...lines, `${indent}- ${all[0] ?? ''}`, ...all.slice(1).map((line) => `${inner}${line}`)];
  });

const job = fc.record({
  id: fc.constantFrom('build', 'test', 'release', 'lint-and-check'),
  runsOn: fc.constantFrom('ubuntu-latest', 'macos-14', '[self-hosted, linux]', 'windows-2022'),
  permissions: fc.option(fc.constantFrom('{}', 'read-all', 'write-all'), { nil: undefined }),
  timeout: fc.boolean(),
  reusable: fc.boolean(),
  steps: fc.array(step, { minLength: 1, maxLength: 4 }),
});

const trigger = fc.constantFrom(
  ['on: push'],
  ['on: [push, pull_request]'],
  ['on:', '  pull_request_target:', '    types: [opened]'],
  ['on:', '  push:', '    branches: [main]', '  workflow_dispatch:'],
  ['"on": issues'],
);

const workflow = fc
  .record({
    name: fc.option(fc.constantFrom('CI', "'Release: nightly'"), { nil: undefined }),
    trigger,
    permissions: fc.option(fc.constantFrom('permissions: {}', 'permissions:\n  contents: read'), { nil: undefined }),
    env: fc.boolean(),
    jobs: fc.uniqueArray(job, { minLength: 1, maxLength: 3, selector: (item) => item.id }),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .map((shape) => {
    const lines = [
      ...(shape.name ? [`name: ${shape.name}`] : []),
      ...shape.trigger,
      ...(shape.permissions ? shape.permissions.split('\n') : []),
      ...(shape.env ? ['env:', '  FORCE_COLOR: 1 # colours in logs'] : []),
      'jobs:',
      ...shape.jobs.flatMap((item) =>
        item.reusable
          ? [`  ${item.id}:`, '    uses: owner/repo/.github/workflows/reusable.yml@v1', '    secrets: inherit']
          : [
              `  ${item.id}:`,
              `    runs-on: ${item.runsOn}`,
              ...(item.permissions ? [`    permissions: ${item.permissions}`] : []),
              ...(item.timeout ? ['    timeout-minutes: 10'] : []),
              '    steps:',
              ...item.steps.flatMap((render) => render('      ')),
            ],
      ),
    ];
    const text = lines.join('\n') + (shape.finalNewline ? '\n' : '');
    return shape.crlf ? text.replace(/\n/g, '\r\n') : text;
  });

function validityFindings(text: string): string[] {
  return analyzeRepository(repositoryFromFiles(new Map([[PATH, text]])), { rules: validityRules })
    .findings.map((finding) => `${finding.ruleId}: ${finding.message}`)
    .sort();
}

async function fixAll(text: string): Promise<string> {
  const outcome = await fixRepository(repositoryFromFiles(new Map([[PATH, text]])), { rules: allRules, unsafe: true, actionRefs: everyActionRefResolves });
  return outcome.files.find((file) => file.path === PATH)?.after ?? text;
}

describe('fixRepository on generated workflows', () => {
  const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Date.now() % 2 ** 31;

  it(`is idempotent and keeps the output valid (seed ${seed})`, async () => {
    console.log(`fix-properties: seed ${seed} (FC_SEED=${seed} replays it)`);
    await fc.assert(
      fc.asyncProperty(workflow, async (text) => {
        const fixed = await fixAll(text);
        const before = validityFindings(text);
        if (before.length === 0) expect(validityFindings(fixed)).toEqual([]);
        expect(await fixAll(fixed)).toBe(fixed);
      }),
      { numRuns: RUNS, seed },
    );
  });
});
