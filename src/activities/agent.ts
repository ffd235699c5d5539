/**
 * The agent cycle's activities: start a cycle (load the policy, select its targets), plan its proposals from the
 * scan's findings with the pure planner, create each proposed patch through the same code path as POST
 * /api/v1/patches `fromFindings` (idempotently, by the proposal's key), and record the cycle's outcome.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from 'pg';
import { type CyclePlan, planCycle, type Proposal, type RememberedFix, type ScannedTarget } from '../agent/planner';
import { agentAuthor, type Policy } from '../agent/policy';
import { selectTargets } from '../agent/target-selection';
import { allowsLocalRepos, gitWorkRoot } from '../config';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS } from '../domain/types';
import {
  lifecycleInput,
  patchCreatedDetails,
  PatchRefused,
  patchSpecFor,
  planFromFindings,
  storePatch,
} from '../patching/create-patch';
import { type FindingSource, type GenerationEnvironment, generateTargetDiffs } from '../patching/from-findings';
import { fleetScanAnalysisIds, getAnalysis, getFindings } from '../store/analyses';
import {
  type AgentCycleCounts,
  coveredFindings,
  findAgentPatch,
  insertAgentPatch,
  openAgentPatchCount,
  recordCycleEnd,
  recordCycleStart,
  rejectedFixes,
} from '../store/agent';
import { appendAuditEvent } from '../store/audit';
import { withTransaction } from '../store/db';
import { getPolicy } from '../store/policies';
import { getTargets, listTargets } from '../store/targets';
import type { PatchLifecycleInput } from '../workflows/lifecycle-run';
import { ForgeDirectory } from '../forges';
import { heartbeating } from './activity-work';
import type { ActivityDeps } from './index';

/** Targets a policy may act on per cycle (the read model lists at most this many). */
const MAX_CYCLE_TARGETS = 1_000;
const UNIQUE_VIOLATION = '23505';

export interface StartCycleInput {
  policyId: string;
  cycleId: string;
  runId: string;
}

export interface CycleStart {
  policyName: string;
  /** Who the cycle's analyses and patches are by: `agent:<policy name>`. */
  author: string;
  /** The targets the policy selects now. */
  targets: Array<{ id: string; name: string }>;
}

/** Where the cycle's analyses are: a fleet scan's that succeeded, or (cycles from before batched scans) listed. */
export type ScanAnalyses = { fleetScanId: string } | { analysisIds: string[] };

export type PlanCycleInput = { policyId: string } & ScanAnalyses;

export interface CreateAgentPatchInput {
  policyId: string;
  cycleId: string;
  proposal: Proposal;
  selectedTargetIds: string[];
}

export type CreatedAgentPatch =
  | { kind: 'created' | 'existing'; patchId: string; input: PatchLifecycleInput; targetNames: string[] }
  | { kind: 'refused'; reason: string };

async function policyOf(pool: Pool, policyId: string): Promise<Policy> {
  const policy = await getPolicy(pool, policyId);
  if (!policy) throw ApplicationFailure.nonRetryable(`the policy ${policyId} was deleted during the cycle`, 'PolicyNotFoundError');
  return policy;
}

export function createAgentActivities({ pool, config }: ActivityDeps) {
  const forges = ForgeDirectory.load(config.forges.credentials);
  const generation: GenerationEnvironment = {
    workRoot: gitWorkRoot(config),
    git: { repoUrlPolicy: { allowLocal: allowsLocalRepos(config) } },
    actions: config.actions,
    gitAccess: (target) => forges.gitAccess(target),
  };

  /** The fix the fixer would apply now to each scanned finding that has a rejected fix (to see whether it changed). */
  async function currentFixesOf(scanned: readonly ScannedTarget[], rejected: readonly RememberedFix[], unsafe: boolean): Promise<RememberedFix[]> {
    const sources: FindingSource[] = [];
    const fingerprints = new Set<string>();
    const targets = await getTargets(pool, scanned.map((entry) => entry.targetId));
    for (const entry of scanned) {
      const remembered = entry.findings.filter((finding) => rejected.some((fix) => fix.targetId === entry.targetId && fix.fingerprint === finding.fingerprint && fix.ruleId === finding.ruleId));
      const analysis = await getAnalysis(pool, entry.analysisId);
      const target = targets.find((candidate) => candidate.id === entry.targetId);
      if (remembered.length === 0 || !analysis?.commitSha || !target) continue;
      remembered.forEach((finding) => fingerprints.add(finding.fingerprint));
      sources.push({ analysis, commitSha: analysis.commitSha, target, findings: remembered });
    }
    if (sources.length === 0) return [];
    const { diffs } = await generateTargetDiffs(sources, { fingerprints: [...fingerprints], unsafe }, generation);
    return diffs.flatMap((entry) => entry.findings.map((finding) => ({ targetId: entry.targetId, fingerprint: finding.fingerprint, ruleId: finding.ruleId, fix: finding.fix })));
  }

  return {
    /** Loads the policy and selects its targets; null when the policy is gone (its schedule fires no more). */
    async startAgentCycle(input: StartCycleInput): Promise<CycleStart | null> {
      const policy = await getPolicy(pool, input.policyId);
      if (!policy) return null;
      await recordCycleStart(pool, { id: input.cycleId, policyId: policy.id, runId: input.runId });
      const targets = selectTargets(await listTargets(pool, MAX_CYCLE_TARGETS), policy.spec.targets);
      return { policyName: policy.name, author: agentAuthor(policy.name), targets: targets.map((target) => ({ id: target.id, name: target.name })) };
    },

    /** The cycle's proposals from the scan's findings, the open patches and the rejection memory. */
    async planAgentCycle(input: PlanCycleInput): Promise<CyclePlan> {
      const policy = await policyOf(pool, input.policyId);
      return heartbeating(config.worker.firstHeartbeatMs, async () => {
        const scanned: ScannedTarget[] = [];
        const targetIds: string[] = [];
        const analysisIds = 'fleetScanId' in input ? await fleetScanAnalysisIds(pool, input.fleetScanId, 'succeeded') : input.analysisIds;
        for (const analysisId of analysisIds) {
          const analysis = await getAnalysis(pool, analysisId);
          if (!analysis || analysis.status !== 'succeeded') continue;
          targetIds.push(analysis.targetId);
          scanned.push({ targetId: analysis.targetId, targetName: '', analysisId, findings: await getFindings(pool, analysisId) });
        }
        const names = new Map((await getTargets(pool, targetIds)).map((target) => [target.id, target.name]));
        for (const entry of scanned) entry.targetName = names.get(entry.targetId) ?? entry.targetId;
        const [covered, rejected, openAgentPatches] = await Promise.all([coveredFindings(pool, targetIds), rejectedFixes(pool, targetIds), openAgentPatchCount(pool, policy.id)]);
        const { spec } = policy;
        const currentFixes = await currentFixesOf(scanned, rejected, spec.unsafe);
        return planCycle({
          policy: { id: policy.id, rules: spec.rules, unsafe: spec.unsafe, minSeverity: spec.minSeverity, grouping: spec.grouping, maxOpenPatches: spec.maxOpenPatches },
          scanned,
          covered,
          rejected,
          currentFixes,
          openAgentPatches,
        });
      });
    },

    /**
     * Creates the proposed patch as POST /patches `fromFindings` would, authored by the agent, and links it to the
     * policy under the proposal's key: a retry or an overlapping tick finds the patch created first.
     */
    async createAgentPatch(input: CreateAgentPatchInput): Promise<CreatedAgentPatch> {
      const { proposal } = input;
      const existing = await findAgentPatch(pool, proposal.idempotencyKey);
      const existingAnswer = (record: NonNullable<typeof existing>): CreatedAgentPatch => ({
        // An earlier attempt of this cycle created it: its lifecycle is still this cycle's to start.
        kind: record.cycleId === input.cycleId ? 'created' : 'existing',
        patchId: record.patchId,
        input: record.lifecycleInput,
        targetNames: record.lifecycleInput.targets.map((target) => target.name),
      });
      if (existing) return existingAnswer(existing);
      const policy = await policyOf(pool, input.policyId);
      const { spec } = policy;
      return heartbeating(config.worker.firstHeartbeatMs, async () => {
        let created;
        try {
          const plan = await planFromFindings(
            pool,
            {
              fromFindings: {
                analysisIds: proposal.targets.map((target) => target.analysisId),
                ruleIds: proposal.ruleIds,
                fingerprints: [...new Set(proposal.targets.flatMap((target) => target.fingerprints))],
                unsafe: spec.unsafe,
              },
            },
            generation,
          );
          const patchSpec = patchSpecFor(plan, {
            author: agentAuthor(policy.name),
            rollout: spec.rollout,
            approval: { quorum: 1, timeoutSeconds: DEFAULT_APPROVAL_TIMEOUT_SECONDS },
            quietWindows: spec.quietWindows,
            approvalMinimums: spec.approval,
          });
          created = await withTransaction(pool, async (client) => {
            const summary = await storePatch(client, patchSpec, plan);
            const record = {
              patchId: patchSpec.id,
              policyId: policy.id,
              policyName: policy.name,
              cycleId: input.cycleId,
              idempotencyKey: proposal.idempotencyKey,
              grouping: spec.grouping,
              ruleId: proposal.ruleId,
              selectedTargetIds: input.selectedTargetIds,
              findingsBefore: proposal.findingsBefore,
              lifecycleInput: lifecycleInput(patchSpec, summary.diffSha256),
            };
            await insertAgentPatch(client, record);
            await appendAuditEvent(client, {
              actor: patchSpec.author,
              action: 'patch.created',
              subjectType: 'patch',
              subjectId: patchSpec.id,
              details: patchCreatedDetails(patchSpec, summary.diffSha256, { agent: { policyId: policy.id, policy: policy.name, cycleId: input.cycleId, ruleId: proposal.ruleId }, skippedTargets: plan.skippedTargets }),
              idempotencyKey: `agent-patch:${proposal.idempotencyKey}`,
            });
            return record;
          });
        } catch (error) {
          if (error instanceof PatchRefused) return { kind: 'refused', reason: error.message };
          const raced = (error as { code?: string }).code === UNIQUE_VIOLATION ? await findAgentPatch(pool, proposal.idempotencyKey) : undefined;
          if (raced) return existingAnswer(raced);
          throw error;
        }
        return { kind: 'created', patchId: created.patchId, input: created.lifecycleInput, targetNames: created.lifecycleInput.targets.map((target) => target.name) };
      });
    },

    async finishAgentCycle(input: { cycleId: string; counts: AgentCycleCounts; patchIds: string[] }): Promise<void> {
      await recordCycleEnd(pool, { id: input.cycleId, counts: input.counts, patchIds: input.patchIds });
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;
