/**
 * The state of one patch lifecycle run and what every phase does with it: status transitions (shown in the Web UI
 * and written to the read model), deployment records, and the bookkeeping ledger. Bookkeeping is started, never
 * awaited where a decision is made: its failures are reported in the state, and `settle` waits for the rest before
 * the run ends or hands over. Deterministic: workflow code only.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  type ApprovalRecord,
  type DiffSource,
  type PatchSpec,
  type PatchState,
  type PatchStatus,
  type Target,
  type TargetDeployment,
  TERMINAL_PATCH_STATUSES,
} from '../domain/types';
import type { RecordDeploymentInput } from '../activities/patch-bookkeeping';
import type { HealthStreaks } from '../health/streaks';
import { bookkeeping, failureMessage } from './lifecycle-activities';
import type { AbortInput } from './patch-messages';
import { indexedTargetNames, patchStatusKey, patchTargetsKey, patchTypeKey } from './search-attributes';

/** Whether the run started with this value of the search attribute. */
function startedWith(pair: SearchAttributePair): boolean {
  return JSON.stringify(workflowInfo().typedSearchAttributes.get(pair.key)) === JSON.stringify(pair.value);
}

/** What a run starts from: the spec with its diff (older callers), or with the diff's hash (the API). */
export type PatchLifecycleInput = Omit<PatchSpec, 'diff'> & DiffSource;

/** Where a rollout stands, carried across a hand-over (continue-as-new). */
export interface RolloutPosition {
  /** 0-based index of the wave being deployed or watched. */
  waveIndex: number;
  /** Whether that wave's deploys are done (the run watches it). */
  waveDeployed: boolean;
  /** Seconds the wave has been watched. */
  elapsedSeconds: number;
  /** Health rounds of the wave so far. */
  round: number;
  /** Health rounds of the whole rollout so far: they key the stored samples. */
  healthRound: number;
  streaks: HealthStreaks;
  /** Ids of the deployed targets that have checks, in deploy order. */
  watched: string[];
}

/** Everything a run hands over to the next one when its history grows long; small by construction. */
export interface LifecycleCheckpoint {
  state: PatchState;
  seq: number;
  deploymentSeq: number;
  abort: AbortInput | null;
  rollout: RolloutPosition;
}

const MAX_REPORTED_BOOKKEEPING_FAILURES = 20;

/**
 * The marker of runs with every change of the command sequence made so far: one marker (and one TemporalChangeVersion
 * upsert) where each change used to add its own. A run without it evaluates each change's own marker.
 */
export const LIFECYCLE_V3 = 'lifecycle-v3';

export class LifecycleRun {
  readonly state: PatchState;
  /** Number of the last status transition (the read model keeps the newest). */
  private seq: number;
  /** Number of the last deployment record (a lower one never overwrites a higher one). */
  private deploymentSeq: number;
  private abort: AbortInput | null;
  private readonly targetsById: Map<string, Target>;
  private readonly pending: Array<Promise<void>> = [];
  /**
   * Whether the run keeps its search attributes up to date: only when it was started with them. A server that
   * does not know them (the time-skipping test server has no way to register any) fails every upsert.
   */
  private readonly indexed = workflowInfo().typedSearchAttributes.get(patchTypeKey) !== undefined;

  /**
   * @param current whether the run has LIFECYCLE_V3, which implies every change before it (see `patched`).
   */
  constructor(
    readonly input: PatchLifecycleInput,
    checkpoint: LifecycleCheckpoint | undefined,
    private readonly current: boolean,
  ) {
    this.state = checkpoint?.state ?? {
      patchId: input.id,
      status: 'pending',
      statusReason: null,
      currentStep: 'created',
      tests: [],
      approvals: [],
      waves: [],
      currentWave: 0,
      paused: false,
      deployments: [],
      bookkeepingFailures: [],
      handOvers: 0,
    };
    this.seq = checkpoint?.seq ?? 0;
    this.deploymentSeq = checkpoint?.deploymentSeq ?? 0;
    this.abort = checkpoint?.abort ?? null;
    this.targetsById = new Map(input.targets.map((target) => [target.id, target]));
    const startPairs = [
      { key: patchTypeKey, value: input.type },
      { key: patchTargetsKey, value: indexedTargetNames(input.targets.map((target) => target.name)) },
      { key: patchStatusKey, value: this.state.status },
    ];
    // The API's starts and every hand-over carry these already: the current version upserts only what differs.
    this.index(current ? startPairs.filter((pair) => !startedWith(pair)) : startPairs);
  }

  /** Whether the run has a change of the command sequence: every change up to LIFECYCLE_V3 with that marker, else its own. */
  patched(change: string): boolean {
    return this.current || patched(change);
  }

  private index(pairs: SearchAttributePair[]): void {
    if (this.indexed && pairs.length > 0) upsertSearchAttributes(pairs);
  }

  /** The search attributes the next run (after a hand-over) starts with: this run's. */
  searchAttributes(): SearchAttributePair[] {
    return this.indexed ? workflowInfo().typedSearchAttributes.getAll() : [];
  }

  /** Where activities get the diff from: the hash (or, for older callers, the text). */
  get diffSource(): DiffSource {
    return 'diffSha256' in this.input ? { diffSha256: this.input.diffSha256 } : { diff: this.input.diff };
  }

  /** The Guardian's abort, if one arrived (a method, so every read sees what handlers set meanwhile). */
  aborted(): AbortInput | null {
    return this.abort;
  }

  /** Keeps the first abort; an abort after the end changes nothing. */
  requestAbort(input: AbortInput): void {
    if (!this.isTerminal() && this.abort === null) this.abort = input;
  }

  target(id: string): Target | undefined {
    return this.targetsById.get(id);
  }

  isTerminal(): boolean {
    return TERMINAL_PATCH_STATUSES.includes(this.state.status);
  }

  /** Guardians whose approval is recorded: the only names that go into commits. */
  approvers(): string[] {
    return this.state.approvals.filter((approval) => approval.decision === 'approved').map((approval) => approval.guardian);
  }

  rejection(): ApprovalRecord | undefined {
    return this.state.approvals.find((approval) => approval.decision === 'rejected');
  }

  showStep(step: string): void {
    this.state.currentStep = step;
    setCurrentDetails(`**${this.state.status}**: ${step}`);
  }

  /** Changes the status now (state, search attribute, Web UI) and writes it to the read model in the background. */
  transition(to: PatchStatus, reason: string | null): void {
    const from = this.state.status;
    this.state.status = to;
    this.state.statusReason = reason;
    this.seq += 1;
    const seq = this.seq;
    this.index([{ key: patchStatusKey, value: to }]);
    this.showStep(reason ?? to);
    this.record(`the transition to ${to}`, () => bookkeeping.recordTransition({ patchId: this.input.id, seq, from, to, reason, at: new Date().toISOString() }));
  }

  /** Starts a bookkeeping write; its failure (after its retries) is reported in the state, never thrown. */
  record(what: string, write: () => Promise<void>): void {
    this.pending.push(
      write().catch((error: unknown) => {
        const failures = this.state.bookkeepingFailures ?? [];
        this.state.bookkeepingFailures = [...failures, `${what}: ${failureMessage(error)}`].slice(-MAX_REPORTED_BOOKKEEPING_FAILURES);
      }),
    );
  }

  /** Updates a deployment in the state and records it, numbered so that no older write wins. */
  updateDeployment(deployment: TargetDeployment, change: Partial<TargetDeployment>): void {
    Object.assign(deployment, change);
    const row = this.deploymentRow(deployment);
    this.record(`the ${row.status} deployment of ${row.targetName}`, () => bookkeeping.recordDeployment(row));
  }

  /** Updates a deployment in the state only: its row was stored by the activity that changed it. */
  noteDeployment(deployment: TargetDeployment, change: Partial<TargetDeployment>): void {
    Object.assign(deployment, change);
  }

  /** Records the deployments as they are in the state with one bookkeeping write, each numbered like updateDeployment. */
  recordDeployments(deployments: readonly TargetDeployment[]): void {
    if (deployments.length === 0) return;
    const rows = deployments.map((deployment) => this.deploymentRow(deployment));
    this.record(`the deployments of ${rows.map((row) => `${row.targetName} (${row.status})`).join(', ')}`, () => bookkeeping.recordDeployments(rows));
  }

  /** The read-model row of a deployment with the next number. */
  private deploymentRow(deployment: TargetDeployment): RecordDeploymentInput {
    this.deploymentSeq += 1;
    const { targetId, targetName, wave, status, error, deployedCommit, previousCommit, revertCommit, pullRequest } = deployment;
    return {
      patchId: this.input.id,
      targetId,
      targetName,
      wave,
      status,
      error,
      ...(deployedCommit === null ? {} : { deployedCommit }),
      ...(previousCommit === null ? {} : { previousCommit }),
      ...(revertCommit === null ? {} : { revertCommit }),
      ...(pullRequest ? { pullRequest } : {}),
      seq: this.deploymentSeq,
    };
  }

  /** The number the next deploy or revert activity writes its deployment row with. */
  nextDeploymentSeq(): number {
    this.deploymentSeq += 1;
    return this.deploymentSeq;
  }

  /** Waits for every bookkeeping write started so far (and those they lead to). */
  async settle(): Promise<void> {
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }

  checkpoint(rollout: RolloutPosition): LifecycleCheckpoint {
    return { state: this.state, seq: this.seq, deploymentSeq: this.deploymentSeq, abort: this.abort, rollout };
  }
}
