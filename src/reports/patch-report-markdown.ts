/**
 * The patch report as Markdown for a pull request body or a ticket: every text that comes from users or
 * repositories is escaped (markdown.ts), logs and diffs are bounded excerpts in fenced blocks, and the document
 * stays under GitHub's 65,536-character body limit; the diffs come last, so they are what a cut leaves out.
 */
import type { Excerpt } from './excerpt';
import { code, durationText, fencedBlock, inlineText, link, type MarkdownDocument, reportDocument, timeText } from './markdown';
import type { PatchReport, ReportDeployment, ReportDiff, ReportScore, ReportTestRun } from './patch-report';

function trimmedNote(excerpt: Excerpt, part: 'first' | 'last'): string[] {
  if (!excerpt.truncated) return [];
  const shown = excerpt.text.length.toLocaleString('en');
  return [`_Trimmed: the ${part} ${shown} of ${excerpt.totalChars.toLocaleString('en')} characters (\`GET /api/v1/patches/:id\` has all of it)._`, ''];
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function diffScope(diff: ReportDiff): string {
  if (diff.target === null) return 'every target';
  const base = diff.baseCommit === null ? '' : ` at ${code(diff.baseCommit)}`;
  const regenerated = diff.regeneratedFrom === null ? '' : ` (made again: the branch moved from ${code(diff.regeneratedFrom)})`;
  return `${inlineText(diff.target.name)}${base}${regenerated}`;
}

function summary(doc: MarkdownDocument, report: PatchReport): void {
  const { patch, workflow } = report;
  doc.add(`# Patch report: ${inlineText(patch.title)}`, '');
  doc.add(`**Status:** ${code(patch.status)}${patch.statusReason ? `: ${inlineText(patch.statusReason)}` : ''}  `);
  doc.add(`**Type:** ${code(patch.type)} · **Author:** ${inlineText(patch.author)} · **Created:** ${timeText(patch.createdAt)} · **Patch:** ${code(patch.id)}  `);
  doc.add(`**Temporal workflow:** ${link(workflow.id, workflow.url)} (namespace ${inlineText(workflow.namespace)})`, '');
}

function changes(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## What changed', '');
  const { total, diffs } = report.changes;
  doc.add(
    total === null
      ? 'A diff of this patch cannot be read as a unified diff; the counts are left out.'
      : `${total.filesChanged} file(s) changed, ${total.linesAdded} line(s) added, ${total.linesRemoved} removed, in ${diffs.length === 1 && diffs[0]?.target === null ? 'one diff for every target' : `${diffs.length} per-target diff(s)`}.`,
    '',
  );
  const rows = diffs.flatMap((diff) => (diff.stats?.files ?? []).map((file) => [diffScope(diff), inlineText(file.path), `+${file.linesAdded}`, `-${file.linesRemoved}`]));
  doc.table(['Diff for', 'File', 'Added', 'Removed'], rows);
}

function why(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## Why', '');
  if (report.findings.length === 0) {
    doc.add('A hand-written patch: it names no findings it resolves.', '');
  } else {
    doc.table(['Target', 'Rule', 'Severity', 'Where', 'Finding', 'Fix'], report.findings.map((finding) => [
      inlineText(finding.target.name),
      // The rule id becomes part of a link: only the analyzer's own id shape is linked.
      /^[a-z0-9-]+$/.test(finding.ruleId) ? link(finding.ruleId, `docs/rules.md#${finding.ruleId}`) : inlineText(finding.ruleId),
      code(finding.severity),
      inlineText(`${finding.file}:${finding.line}`),
      inlineText(finding.message),
      inlineText(`${finding.fix} (${finding.safety})`),
    ]));
  }
  if (report.patch.description) doc.add('Description:', '', fencedBlock(report.patch.description), '');
}

function jobsOf(doc: MarkdownDocument, run: ReportTestRun): void {
  if (run.jobs === null || run.jobs.length === 0) return;
  doc.add(`Jobs of the workflow-run stage on ${inlineText(run.target.name)}:`, '');
  doc.table(['Job', 'Verdict', 'Failing step'], run.jobs.map((job) => [
    inlineText(`${job.workflowPath} ${job.jobId}`),
    code(job.verdict),
    inlineText(job.failingStep ?? job.reason ?? ''),
  ]));
  for (const job of run.jobs) {
    if (job.failingStepLog === null || job.failingStepLog.text.trim() === '' || job.verdict === 'passed') continue;
    doc.add(`Step ${inlineText(job.failingStep ?? '')} of ${inlineText(job.jobId)} (${job.verdict}):`, '', fencedBlock(job.failingStepLog.text), '', ...trimmedNote(job.failingStepLog, 'last'));
  }
}

function tests(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## Tests', '');
  if (report.tests.length === 0) {
    doc.add('No test stage has run yet.', '');
    return;
  }
  doc.table(['Target', 'Stage', 'Result', 'Duration', 'Summary'], report.tests.map((run) => [
    inlineText(run.target.name),
    code(run.stage),
    run.passed ? 'passed' : '**failed**',
    durationText(run.durationMs),
    inlineText(run.summary),
  ]));
  for (const run of report.tests) {
    jobsOf(doc, run);
    // Logs of passing stages say little; the JSON form has them.
    if (run.passed || run.log.text.trim() === '' || run.jobs !== null) continue;
    doc.add(`Log of ${code(run.stage)} on ${inlineText(run.target.name)}:`, '', fencedBlock(run.log.text), '', ...trimmedNote(run.log, 'last'));
  }
}

function approval(doc: MarkdownDocument, report: PatchReport): void {
  const { approval: spec } = report;
  doc.add('## Approval', '');
  const groups = spec.distinctGroups ? ', each from a group not yet represented' : '';
  doc.add(`Required: ${spec.quorum} Guardian approval(s)${groups} within ${durationText(spec.timeoutSeconds * 1000)}; ${spec.approvals} counted, quorum ${spec.quorumMet ? 'met' : 'not met'}.`, '');
  if (spec.reasons.length > 0) doc.add('Why this quorum:', '', ...spec.reasons.map((reason) => `- ${inlineText(reason)}`), '');
  doc.table(['Guardian', 'Decision', 'At', 'Comment'], spec.decisions.map((decision) => [inlineText(decision.guardian), code(decision.decision), timeText(decision.at), inlineText(decision.comment ?? '')]));
}

/** The pull request (and its revert's), with what its checks said before the merge. */
function pullRequestCell(deployment: Pick<ReportDeployment, 'pullRequest' | 'revertPullRequest' | 'note'>): string {
  const parts = [
    deployment.pullRequest ? link(`#${deployment.pullRequest.number}`, deployment.pullRequest.url) : '',
    deployment.revertPullRequest ? `reverted by ${link(`#${deployment.revertPullRequest.number}`, deployment.revertPullRequest.url)}` : '',
    deployment.note ? inlineText(deployment.note) : '',
  ];
  return parts.filter((part) => part !== '').join('; ');
}

function rollout(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## Rollout', '');
  const { waves, transitions } = report.rollout;
  if (waves.length === 0) {
    doc.add('Nothing was deployed.', '');
  } else {
    doc.table(
      ['Wave', 'Target', 'Status', 'Deployed', 'Commit', 'Pull request', 'Health samples', 'First failing sample', 'Reverted', 'Revert commit'],
      waves.flatMap((wave) =>
        wave.deployments.map(({ health, ...deployment }) => [
          `${wave.wave}${wave.percent === null ? '' : ` (${wave.percent} %)`}`,
          inlineText(deployment.target.name),
          code(deployment.status) + (deployment.error ? `: ${inlineText(deployment.error)}` : ''),
          timeText(deployment.deployedAt),
          deployment.deployedCommit === null ? '' : code(deployment.deployedCommit.slice(0, 12)),
          pullRequestCell(deployment),
          `${health.samples} (${health.failed} failed, ${health.errors} not taken)`,
          timeText(health.firstFailureAt),
          timeText(deployment.revertedAt),
          deployment.revertCommit === null ? '' : code(deployment.revertCommit.slice(0, 12)),
        ]),
      ),
    );
    const samples = waves.flatMap((wave) => wave.deployments.flatMap((deployment) => deployment.health.recent.map((sample) => ({ target: deployment.target.name, sample }))));
    if (samples.length > 0) {
      doc.add('Latest health samples:', '');
      doc.table(['Target', 'At', 'Check', 'Result', 'Detail'], samples.map(({ target, sample }) => [
        inlineText(target),
        timeText(sample.at),
        inlineText(sample.check),
        sample.ok ? 'ok' : sample.error ? '**not taken**' : '**failed**',
        inlineText(sample.detail),
      ]));
    }
  }
  if (transitions.length > 0) {
    doc.add('Timeline:', '');
    doc.table(['At', 'From', 'To', 'Reason'], transitions.map((transition) => [timeText(transition.at), transition.from === null ? '' : code(transition.from), code(transition.to), inlineText(transition.reason ?? '')]));
  }
}

function scoreCell(score: ReportScore): string {
  if (score.after !== null) return `${score.after.score} (${timeText(score.after.at)})`;
  return score.afterState === 'not-deployed' ? 'not deployed' : 'not analysed since';
}

function scores(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## Score', '');
  doc.table(['Target', 'Before', 'After', 'Change'], report.scores.map((score) => [
    inlineText(score.target.name),
    score.before === null ? 'not analysed before' : `${score.before.score} (${timeText(score.before.at)})`,
    scoreCell(score),
    score.change === null ? '' : signed(score.change),
  ]));
}

function diffs(doc: MarkdownDocument, report: PatchReport): void {
  doc.add('## Diffs', '');
  for (const diff of report.changes.diffs) {
    const stats = diff.stats === null ? '' : ` (${diff.stats.filesChanged} file(s), +${diff.stats.linesAdded} -${diff.stats.linesRemoved})`;
    doc.add(`Diff for ${diffScope(diff)}${stats}, SHA-256 ${code(diff.diffSha256.slice(0, 16))}:`, '', fencedBlock(diff.diff.text, 'diff'), '', ...trimmedNote(diff.diff, 'first'));
  }
}

/** The report as Markdown, at most MAX_REPORT_CHARS characters. */
export function patchReportMarkdown(report: PatchReport): string {
  const doc = reportDocument();
  for (const section of [summary, changes, why, tests, approval, rollout, scores, diffs]) section(doc, report);
  doc.add(`_Generated ${timeText(report.generatedAt)} by workflow-patch-agent._`);
  return doc.render();
}
