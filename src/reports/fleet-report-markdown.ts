/** The fleet report as Markdown: one function per section of the model, each text escaped (markdown.ts). */
import { CATEGORIES, PATCH_STATUSES, SEVERITIES } from '../domain/types';
import type { FleetReport } from './fleet-report';
import { code, durationText, inlineText, type MarkdownDocument, reportDocument, timeText } from './markdown';

function trendText(trend: number | null): string {
  if (trend === null) return '';
  if (trend === 0) return '= 0';
  return trend > 0 ? `▲ +${trend}` : `▼ ${trend}`;
}

function targets(doc: MarkdownDocument, report: FleetReport): void {
  doc.add('## Targets', '');
  if (report.targets.length === 0) {
    doc.add('No target is registered.', '');
    return;
  }
  doc.table(
    ['Target', 'Score', 'Trend', 'Analysed', 'Open findings', ...SEVERITIES, 'Deployments kept / reverted / failed'],
    report.targets.map((row) => [
      inlineText(row.target.name),
      row.score === null ? 'not analysed' : String(row.score.score),
      trendText(row.trend),
      timeText(row.score?.at ?? null),
      String(row.openFindings.total),
      ...SEVERITIES.map((severity) => String(row.openFindings.bySeverity[severity])),
      `${row.deployments.kept} / ${row.deployments.reverted} / ${row.deployments.failed}`,
    ]),
  );
}

function openFindings(doc: MarkdownDocument, report: FleetReport): void {
  doc.add('## Open findings', '', `${report.openFindings.total} finding(s) in the targets' latest analyses.`, '');
  const matrix = report.openFindings.byCategoryAndSeverity;
  doc.table(
    ['Category', ...SEVERITIES, 'Total'],
    CATEGORIES.map((category) => [code(category), ...SEVERITIES.map((severity) => String(matrix[category][severity])), String(SEVERITIES.reduce((sum, severity) => sum + matrix[category][severity], 0))]),
  );
}

function patches(doc: MarkdownDocument, report: FleetReport): void {
  doc.add('## Patches', '', `${report.patches.total} patch(es).`, '');
  doc.table(['Status', 'Patches'], PATCH_STATUSES.filter((status) => report.patches.byStatus[status] > 0).map((status) => [code(status), String(report.patches.byStatus[status])]));
}

function rollouts(doc: MarkdownDocument, report: FleetReport): void {
  const { rollouts: ended, rollbacks } = report;
  doc.add('## Rollouts and rollbacks', '');
  const rate = ended.successRate === null ? 'no rollout has ended yet' : `${(ended.successRate * 100).toFixed(1)} %`;
  doc.add(
    `- Deployment success rate: ${rate} (${ended.deployed} of ${ended.ended} ended rollouts deployed; ${ended.rolledBack} rolled back, ${ended.failed} failed, ${ended.cancelled} cancelled)`,
    `- Rollbacks: ${rollbacks.rolledBack} patch(es), ${rollbacks.targetsReverted} target deployment(s) reverted`,
    `- Mean time from a failing health sample to a completed rollback: ${rollbacks.meanSecondsToRollback === null ? 'not measured yet' : `${durationText(rollbacks.meanSecondsToRollback * 1000)} (over ${rollbacks.measured} rollback(s))`}`,
    '',
  );
}

function campaigns(doc: MarkdownDocument, report: FleetReport): void {
  doc.add('## Campaigns', '');
  if (report.campaigns.length === 0) {
    doc.add('No agent campaign yet.', '');
    return;
  }
  doc.table(
    ['Campaign', 'Rule', 'Policy', 'Status', 'Fixed', 'Pending', 'Deploying', 'Rolled back', 'Rejected', 'Not applicable', 'Findings before → after'],
    report.campaigns.map((campaign) => [
      inlineText(campaign.title),
      code(campaign.ruleId),
      inlineText(campaign.policyName),
      code(campaign.status),
      String(campaign.counts.fixed),
      String(campaign.counts.pending_approval),
      String(campaign.counts.deploying),
      String(campaign.counts.rolled_back),
      String(campaign.counts.rejected),
      String(campaign.counts.not_applicable),
      `${campaign.trend.before} → ${campaign.trend.after ?? 'not analysed since'}`,
    ]),
  );
}

export function fleetReportMarkdown(report: FleetReport): string {
  const doc = reportDocument();
  doc.add('# Fleet report', '');
  for (const section of [targets, openFindings, patches, rollouts, campaigns]) section(doc, report);
  doc.add(`_Generated ${timeText(report.generatedAt)} by workflow-patch-agent._`);
  return doc.render();
}
