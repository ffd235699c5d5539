/**
 * Every safe and unsafe fix applied to every file of the shared corpus of real workflows (../shared/corpus/gha,
 * one folder per repository), with a fake action ref lookup that resolves every ref (so pinning runs offline).
 * Each result must parse and pass the schema (no more yaml-syntax or schema-violation findings than before), lose the findings it fixed, gain none of medium severity or worse,
 * keep every line the fixes did not touch, and never drop the checkout credentials of a job that pushes. Prints
 * per rule how many findings were fixable and fixed. Skipped with a notice when the shared folder is absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { structuredPatch } from 'diff';
import { discoverRepository, repositoryFromFiles } from '../../src/analysis/discover';
import { analyzeRepository } from '../../src/analysis/engine';
import { type Finding } from '../../src/domain/types';
import { jobsOf, mapGet, scalarText, stepsOfJob } from '../../src/analysis/rule';
import { allRules } from '../../src/analysis/rules';
import { fixRepository, type FixedFile, type FixOutcome } from '../../src/fixes/fix-repository';
import { everyActionRefResolves } from '../support/action-refs';

const REPO_ROOT = resolve(__dirname, '../..');
const CORPUS = join(resolve(REPO_ROOT, '..', 'shared'), 'corpus', 'gha');
/** The rules whose findings say a file does not parse or breaks the schema: no more of them after fixing. */
const VALIDITY_RULES = ['yaml-syntax', 'schema-violation'];
const validityRules = allRules.filter((rule) => VALIDITY_RULES.includes(rule.id));
/** Existing lines one fix may rewrite (the `uses:` line, a scalar and its comment, a flow map it joins). */
const CHANGED_LINES_PER_FIX = 3;
/**
 * Steps after which a job's token must stay in the checkout: they push with it. (peter-evans/create-pull-request
 * and ad-m/github-push-action are not among them: they authenticate with their own `token` input.)
 */
const PUSHING_RUN = /\bgit\s+(?:-\S+\s+)*push\b/;
const PUSHING_ACTIONS = /^(?:stefanzweifel\/git-auto-commit-action|endbug\/add-and-commit)@/i;

interface RuleFigures {
  fixable: number;
  fixed: number;
}

function countBy(findings: readonly Finding[], ruleIds: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const finding of findings) {
    const key = `${finding.file}\u0000${finding.ruleId}`;
    if (ruleIds.includes(finding.ruleId)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** What is wrong with the lines of one fixed file: rewritten lines beyond the fixes' share, or changed line endings. */
function lineProblems(file: FixedFile, fixes: number): string[] {
  const newline = file.before.includes('\r\n') ? '\r\n' : '\n';
  const problems: string[] = [];
  let rewritten = 0;
  for (const hunk of structuredPatch('a', 'b', file.before, file.after, '', '', { context: 0 }).hunks) {
    rewritten += hunk.oldLines;
    // jsdiff keeps each line's `\r`, so a CRLF file's new lines must end in `\r` too.
    const added = hunk.lines.filter((line) => line.startsWith('+'));
    if (newline === '\r\n' && added.some((line) => !line.endsWith('\r'))) problems.push(`${file.path}: an added line ends in LF in a CRLF file`);
  }
  if (rewritten > fixes * CHANGED_LINES_PER_FIX) problems.push(`${file.path}: ${rewritten} existing lines rewritten by ${fixes} fixes`);
  if (file.before.endsWith('\n') !== file.after.endsWith('\n')) problems.push(`${file.path}: the final line break changed`);
  return problems;
}

/** checkout-persisted-credentials fixes in jobs whose later steps push with the checkout's token. */
function credentialsDroppedBeforePush(outcome: FixOutcome): string[] {
  const fixes = outcome.applied.filter(({ finding }) => finding.ruleId === 'checkout-persisted-credentials');
  return fixes.flatMap(({ finding }) => {
    const before = outcome.files.find((file) => file.path === finding.file)?.before;
    if (before === undefined) return [];
    const [file] = repositoryFromFiles(new Map([[finding.file, before]])).workflowFiles;
    const job = file === undefined ? undefined : jobsOf(file).find((item) => {
      const range = item.node.range;
      const start = range ? file.lineCounter.linePos(range[0]).line : 0;
      const end = range ? file.lineCounter.linePos(range[1]).line : 0;
      return start <= finding.line && finding.line <= end;
    });
    const pushes = job !== undefined && stepsOfJob(job).some((step) => {
      const line = step.node.range && file ? file.lineCounter.linePos(step.node.range[0]).line : 0;
      const run = scalarText(mapGet(step.node, 'run')) ?? '';
      const uses = scalarText(mapGet(step.node, 'uses')) ?? '';
      return line > finding.line && (PUSHING_RUN.test(run) || PUSHING_ACTIONS.test(uses));
    });
    return pushes ? [`${finding.file}:${finding.line}: credentials dropped in job \`${job.id}\`, which pushes later`] : [];
  });
}

if (!existsSync(CORPUS)) {
  console.warn(`fix-corpus.test.ts: ${CORPUS} not found; skipping the corpus fix test (it needs the shared folder next to the checkout).`);
  test.skip('fixes on the corpus of real workflow files (shared folder absent)', () => {});
} else {
  const folders = readdirSync(CORPUS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const figures = new Map<string, RuleFigures>();
  const broken = new Set<string>();
  let files = 0;
  let changedFiles = 0;

  const figuresOf = (ruleId: string): RuleFigures => {
    const existing = figures.get(ruleId) ?? { fixable: 0, fixed: 0 };
    figures.set(ruleId, existing);
    return existing;
  };

  describe('every fix on the real-world corpus', () => {
    afterAll(() => {
      const rows = [...figures].sort(([a], [b]) => (a < b ? -1 : 1)).map(([ruleId, { fixable, fixed }]) => `  ${ruleId.padEnd(34)} ${String(fixable).padStart(6)} ${String(fixed).padStart(6)}`);
      const total = [...figures.values()].reduce((sum, { fixable, fixed }) => ({ fixable: sum.fixable + fixable, fixed: sum.fixed + fixed }), { fixable: 0, fixed: 0 });
      console.log(
        [
          `fix corpus: ${folders.length} repositories, ${files} files, ${changedFiles} changed, ${broken.size} broken`,
          `  ${'rule'.padEnd(34)} ${'fixable'.padStart(6)} ${'fixed'.padStart(6)}`,
          ...rows,
          `  ${'total'.padEnd(34)} ${String(total.fixable).padStart(6)} ${String(total.fixed).padStart(6)}`,
        ].join('\n'),
      );
    });

    test.each(folders)('%s: fixed files parse and validate, fixed findings are gone, nothing else changes', async (folder) => {
      const view = discoverRepository(join(CORPUS, folder));
      files += view.workflowFiles.length;
      const outcome = await fixRepository(view, { rules: allRules, unsafe: true, actionRefs: everyActionRefResolves });
      changedFiles += outcome.files.length;
      for (const { finding } of outcome.applied) {
        figuresOf(finding.ruleId).fixable += 1;
        figuresOf(finding.ruleId).fixed += 1;
      }
      for (const { finding } of outcome.unfixable) if (finding.fixable) figuresOf(finding.ruleId).fixable += 1;

      const changed = outcome.files.map((file) => file.path);
      const initial = countBy(analyzeRepository(view, { rules: validityRules, only: changed }).findings, VALIDITY_RULES);
      const invalid = [...countBy(outcome.remaining.filter((finding) => changed.includes(finding.file)), VALIDITY_RULES)].filter(([key, count]) => count > (initial.get(key) ?? 0)).map(([key]) => key.replace('\u0000', ': '));
      const fixedFingerprints = new Set(outcome.applied.map(({ finding }) => finding.fingerprint));
      const kept = outcome.remaining.filter((finding) => fixedFingerprints.has(finding.fingerprint)).map((finding) => `${finding.file}:${finding.line} ${finding.ruleId}`);
      const introduced = outcome.introduced.map((finding) => `${finding.file}:${finding.line} ${finding.ruleId}: ${finding.message}`);
      const lines = outcome.files.flatMap((file) => lineProblems(file, outcome.applied.filter(({ finding }) => finding.file === file.path).length));
      const credentials = credentialsDroppedBeforePush(outcome);

      const problems = [...invalid, ...kept, ...introduced, ...lines, ...credentials];
      for (const problem of problems) broken.add(`${folder}/${problem.split(':')[0] ?? ''}`);
      expect({ invalid, kept, introduced, lines, credentials }).toEqual({ invalid: [], kept: [], introduced: [], lines: [], credentials: [] });
    });
  });
}
