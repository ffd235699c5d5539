/**
 * The fleet report: per target its score and trend, open findings and deployments, and across the fleet the open
 * findings by category and severity, patches by status, how rollouts ended and how fast rollbacks are. One JSON
 * model for the API and a console; fleet-report-markdown.ts renders it.
 *
 * Each section is one field, built by one function here and rendered by one function in the Markdown renderer,
 * so a new section (the agent's campaigns) is one more field, builder and renderer beside these.
 */
import type { Pool } from 'pg';
import { type Campaign, campaignOf } from '../agent/campaigns';
import { CATEGORIES, type Category, PATCH_STATUSES, type PatchStatus, SEVERITIES, type Severity } from '../domain/types';
import { deploymentCounts, endedRolloutCounts, openFindingCounts, patchCountsByStatus, rollbackTimes, type DeploymentCount, type FindingCount, type RollbackTimes } from '../store/fleet-stats';
import { listCampaignFacts } from '../store/campaigns';
import { latestScores, type LatestScores, type ScorePoint } from '../store/scores';
import type { ReportTarget } from './patch-report';

export interface OpenFindings {
  total: number;
  bySeverity: Record<Severity, number>;
  byCategory: Record<Category, number>;
}

export interface FleetTarget {
  target: ReportTarget;
  score: ScorePoint | null;
  previousScore: ScorePoint | null;
  /** The latest score minus the one before it; null without two analyses. */
  trend: number | null;
  /** The findings of the target's latest analysis. */
  openFindings: OpenFindings;
  /** The target's deployments (one per patch) by how they ended: still deployed, reverted, or failed (deploy or revert). */
  deployments: { kept: number; reverted: number; failed: number };
}

export interface FleetReport {
  /** By target name. */
  targets: FleetTarget[];
  openFindings: { total: number; byCategoryAndSeverity: Record<Category, Record<Severity, number>> };
  patches: { total: number; byStatus: Record<PatchStatus, number> };
  /** Patches that deployed something and have ended, by how they ended; successRate = deployed / ended. */
  rollouts: { ended: number; deployed: number; rolledBack: number; failed: number; cancelled: number; successRate: number | null };
  rollbacks: RollbackTimes & { targetsReverted: number };
  /** The newest agent campaigns (one patch per rule across a policy's targets), each with its counts and trend. */
  campaigns: FleetCampaign[];
  generatedAt: string;
}

/** A campaign as the fleet report lists it; GET /campaigns/:id has its targets. */
export type FleetCampaign = Omit<Campaign, 'targets'>;

/** Campaigns the fleet report lists, newest first. */
const FLEET_REPORT_CAMPAIGNS = 50;

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

function targetRow(scores: LatestScores, findings: readonly FindingCount[], deployments: readonly DeploymentCount[]): FleetTarget {
  const openFindings: OpenFindings = { total: 0, bySeverity: zeros(SEVERITIES), byCategory: zeros(CATEGORIES) };
  for (const count of findings) {
    openFindings.total += count.count;
    openFindings.bySeverity[count.severity] += count.count;
    openFindings.byCategory[count.category] += count.count;
  }
  const counted = (...statuses: string[]): number => deployments.filter((entry) => statuses.includes(entry.status)).reduce((sum, entry) => sum + entry.count, 0);
  return {
    target: { id: scores.targetId, name: scores.target },
    score: scores.latest,
    previousScore: scores.previous,
    trend: scores.latest && scores.previous ? scores.latest.score - scores.previous.score : null,
    openFindings,
    deployments: { kept: counted('deployed'), reverted: counted('reverted'), failed: counted('failed', 'revert_failed') },
  };
}

function fleetFindings(findings: readonly FindingCount[]): FleetReport['openFindings'] {
  const byCategoryAndSeverity = Object.fromEntries(CATEGORIES.map((category) => [category, zeros(SEVERITIES)])) as Record<Category, Record<Severity, number>>;
  for (const count of findings) byCategoryAndSeverity[count.category][count.severity] += count.count;
  return { total: findings.reduce((sum, count) => sum + count.count, 0), byCategoryAndSeverity };
}

function patchesSection(byStatus: ReadonlyMap<PatchStatus, number>): FleetReport['patches'] {
  const counts = zeros(PATCH_STATUSES);
  for (const [status, count] of byStatus) counts[status] = count;
  return { total: [...byStatus.values()].reduce((sum, count) => sum + count, 0), byStatus: counts };
}

function rolloutsSection(ended: ReadonlyMap<PatchStatus, number>): FleetReport['rollouts'] {
  const count = (status: PatchStatus): number => ended.get(status) ?? 0;
  const total = [...ended.values()].reduce((sum, value) => sum + value, 0);
  return {
    ended: total,
    deployed: count('deployed'),
    rolledBack: count('rolled_back'),
    failed: count('failed'),
    cancelled: count('cancelled'),
    successRate: total === 0 ? null : count('deployed') / total,
  };
}

function byTarget<T extends { targetId: string }>(entries: readonly T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const entry of entries) {
    const list = grouped.get(entry.targetId);
    if (list) list.push(entry);
    else grouped.set(entry.targetId, [entry]);
  }
  return grouped;
}

export async function buildFleetReport(pool: Pool): Promise<FleetReport> {
  const [scores, findings, byStatus, ended, deployments, rollbacks, campaigns] = await Promise.all([
    latestScores(pool),
    openFindingCounts(pool),
    patchCountsByStatus(pool),
    endedRolloutCounts(pool),
    deploymentCounts(pool),
    rollbackTimes(pool),
    listCampaignFacts(pool, FLEET_REPORT_CAMPAIGNS),
  ]);
  const [findingsByTarget, deploymentsByTarget] = [byTarget(findings), byTarget(deployments)];
  return {
    targets: scores.map((entry) => targetRow(entry, findingsByTarget.get(entry.targetId) ?? [], deploymentsByTarget.get(entry.targetId) ?? [])),
    openFindings: fleetFindings(findings),
    patches: patchesSection(byStatus),
    rollouts: rolloutsSection(ended),
    rollbacks: { ...rollbacks, targetsReverted: deployments.filter((entry) => entry.status === 'reverted').reduce((sum, entry) => sum + entry.count, 0) },
    campaigns: campaigns.map((facts) => {
      const { targets: _targets, ...campaign } = campaignOf(facts);
      return campaign;
    }),
    generatedAt: new Date().toISOString(),
  };
}
