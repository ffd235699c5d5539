/**
 * Pairs the steps of a job before and after a patch, so a renamed, moved or edited step is not mistaken for a
 * removed one. Passes, each over the steps still unpaired: same `id`, same `name` and content, same `name`, same
 * action (`uses` without its ref, so re-pinning keeps the pair) or same script, and finally a `run` step edited
 * in place: a run step whose script changed, between the same already-paired neighbours.
 */
import { mapEntries, mapGet, parseActionRef, scalarText, type StepView } from '../analysis/rule';

export type StepMatchReason = 'id' | 'name' | 'identity' | 'position';

export interface StepPair {
  before: StepView;
  after: StepView;
  matchedBy: StepMatchReason;
}

export interface StepMatching {
  /** Paired steps, in the order of the steps before the patch. */
  pairs: StepPair[];
  removed: StepView[];
  added: StepView[];
}

const MAX_LABEL_CHARS = 60;

function field(step: StepView, key: string): string | undefined {
  return scalarText(mapGet(step.node, key));
}

/** The action a `uses:` names, without its version, so re-pinning a ref keeps the identity. */
function actionIdentity(raw: string): string {
  const ref = parseActionRef(raw);
  if (ref.kind === 'remote') return [ref.owner, ref.repo, ref.subPath].filter(Boolean).join('/').toLowerCase();
  if (ref.kind === 'docker') return `docker://${(ref.image ?? '').replace(/@.*$/, '').replace(/:[^/:]*$/, '')}`;
  return ref.raw.replace(/\/+$/, '');
}

/** What the step does: its action, its script with whitespace normalized, or else its whole content. */
export function stepIdentity(step: StepView): string {
  const uses = field(step, 'uses');
  if (uses !== undefined) return `uses ${actionIdentity(uses)}`;
  const run = field(step, 'run');
  if (run !== undefined) return `run ${run.replace(/\s+/g, ' ').trim()}`;
  // Other shapes (a `parallel:` group, `wait-all:`) are identified by everything they contain but their labels.
  const content: unknown = step.node.toJSON();
  const withoutLabels =
    typeof content === 'object' && content !== null ? Object.entries(content).filter(([key]) => key !== 'name' && key !== 'id') : content;
  return `other ${JSON.stringify(withoutLabels)}`;
}

/** A short human name for a step in messages. */
export function stepLabel(step: StepView): string {
  const name = field(step, 'name') ?? field(step, 'id');
  if (name !== undefined) return `"${name}"`;
  const uses = field(step, 'uses');
  if (uses !== undefined) return `uses: ${uses}`;
  if (field(step, 'run') === undefined) return `with ${mapEntries(step.node).map((entry) => `${entry.key}:`).join(' ')}`;
  const firstLine = (field(step, 'run') ?? '').trim().split('\n')[0] ?? '';
  return `run: ${firstLine.length > MAX_LABEL_CHARS ? `${firstLine.slice(0, MAX_LABEL_CHARS - 3)}...` : firstLine}`;
}

export function matchSteps(before: readonly StepView[], after: readonly StepView[]): StepMatching {
  const pairedAfter = new Map<number, { after: number; matchedBy: StepMatchReason }>();
  const takenAfter = new Set<number>();

  const pairByKey = (matchedBy: StepMatchReason, key: (step: StepView) => string | undefined): void => {
    const waiting = new Map<string, number[]>();
    after.forEach((step, index) => {
      const value = takenAfter.has(index) ? undefined : key(step);
      if (value === undefined) return;
      const list = waiting.get(value);
      if (list) list.push(index);
      else waiting.set(value, [index]);
    });
    before.forEach((step, index) => {
      if (pairedAfter.has(index)) return;
      const value = key(step);
      const candidate = value === undefined ? undefined : waiting.get(value)?.shift();
      if (candidate === undefined) return;
      pairedAfter.set(index, { after: candidate, matchedBy });
      takenAfter.add(candidate);
    });
  };

  pairByKey('id', (step) => field(step, 'id'));
  // Exact name-and-content matches first, so among steps sharing a name the unchanged ones pair up.
  pairByKey('name', (step) => {
    const name = field(step, 'name');
    return name === undefined ? undefined : `${name}\n${stepIdentity(step)}`;
  });
  pairByKey('name', (step) => field(step, 'name'));
  pairByKey('identity', stepIdentity);
  pairEditedScripts(before, after, pairedAfter, takenAfter);

  const pairs: StepPair[] = [];
  const removed: StepView[] = [];
  before.forEach((step, index) => {
    const pair = pairedAfter.get(index);
    const afterStep = pair === undefined ? undefined : after[pair.after];
    if (pair && afterStep) pairs.push({ before: step, after: afterStep, matchedBy: pair.matchedBy });
    else removed.push(step);
  });
  return { pairs, removed, added: after.filter((_step, index) => !takenAfter.has(index)) };
}

/**
 * Pairs a leftover `run` step with the first leftover `run` step that sits between the same paired neighbours
 * after the patch: the script was edited in place (the typical fix for an injected expression).
 */
function pairEditedScripts(
  before: readonly StepView[],
  after: readonly StepView[],
  pairedAfter: Map<number, { after: number; matchedBy: StepMatchReason }>,
  takenAfter: Set<number>,
): void {
  const isRun = (step: StepView | undefined): boolean => step !== undefined && field(step, 'run') !== undefined;
  for (let index = 0; index < before.length; index++) {
    if (pairedAfter.has(index) || !isRun(before[index])) continue;
    let lower = -1;
    for (let previous = index - 1; previous >= 0; previous--) {
      const pair = pairedAfter.get(previous);
      if (pair) {
        lower = pair.after;
        break;
      }
    }
    let upper = after.length;
    for (let next = index + 1; next < before.length; next++) {
      const pair = pairedAfter.get(next);
      if (pair) {
        upper = pair.after;
        break;
      }
    }
    for (let candidate = lower + 1; candidate < upper; candidate++) {
      if (takenAfter.has(candidate) || !isRun(after[candidate])) continue;
      pairedAfter.set(index, { after: candidate, matchedBy: 'position' });
      takenAfter.add(candidate);
      break;
    }
  }
}
