import { isScalar, isSeq, type Node } from 'yaml';
import { jobsOf, mapEntries, mapGet, rootMap, type RuleContext, type Rule, scalarText, seqItems, type StepView, stepsOf, stepsOfJob } from '../../rule';
import { closestMatch } from '../../schema/edit-distance';

/** One `needs:` entry of a job, with ids compared case-insensitively as GitHub does. */
interface NeedsEdge {
  from: string;
  to: string;
  node: Node;
}

function needsEdges(ctx: RuleContext): { edges: NeedsEdge[]; ids: Map<string, string> } {
  // Every key under `jobs:` is a job id, even when its value is malformed.
  const ids = new Map(mapEntries(mapGet(rootMap(ctx.file), 'jobs')).map(({ key }) => [key.toLowerCase(), key]));
  const edges: NeedsEdge[] = [];
  for (const job of jobsOf(ctx.file)) {
    const needs = mapGet(job.node, 'needs');
    const items = isSeq(needs) ? seqItems(needs) : needs ? [needs] : [];
    for (const item of items) {
      const text = scalarText(item);
      if (isScalar(item) && text) edges.push({ from: job.id.toLowerCase(), to: text.toLowerCase(), node: item });
    }
  }
  return { edges, ids };
}

function reportUndefinedNeeds(ctx: RuleContext, edges: readonly NeedsEdge[], ids: ReadonlyMap<string, string>): void {
  for (const edge of edges) {
    if (ids.has(edge.to)) continue;
    const suggestion = closestMatch(edge.to, ids.values(), 2);
    ctx.report({
      node: edge.node,
      message: `Job \`${ids.get(edge.from) ?? edge.from}\` needs \`${scalarText(edge.node) ?? edge.to}\`, which is not a job of this workflow${suggestion ? `; did you mean \`${suggestion}\`?` : '.'}`,
      remediation: 'Name an existing job id in `needs:` (ids are the keys under `jobs:`), or remove the entry.',
    });
  }
}

/** Strongly connected components of the needs graph (Tarjan), each in discovery order. */
function cycles(jobIds: readonly string[], edges: readonly NeedsEdge[]): string[][] {
  const successors = new Map<string, string[]>(jobIds.map((id) => [id, []]));
  for (const edge of edges) if (successors.has(edge.to)) successors.get(edge.from)?.push(edge.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (id: string): void => {
    index.set(id, index.size);
    low.set(id, index.get(id) ?? 0);
    stack.push(id);
    onStack.add(id);
    for (const next of successors.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(id, Math.min(low.get(id) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(id) !== index.get(id)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === id) break;
    }
    const selfLoop = (successors.get(id) ?? []).includes(id);
    if (component.length > 1 || selfLoop) components.push(component.reverse());
  };
  for (const id of jobIds) if (!index.has(id)) visit(id);
  return components;
}

function reportCycles(ctx: RuleContext, edges: readonly NeedsEdge[], ids: ReadonlyMap<string, string>): void {
  const jobOrder = [...ids.keys()];
  for (const component of cycles(jobOrder, edges)) {
    const members = new Set(component);
    const first = jobOrder.find((id) => members.has(id));
    const edge = edges.find((candidate) => candidate.from === first && members.has(candidate.to));
    if (!edge) continue;
    const names = jobOrder.filter((id) => members.has(id)).map((id) => `\`${ids.get(id) ?? id}\``);
    ctx.report({
      node: edge.node,
      message:
        names.length === 1
          ? `Job ${names[0] ?? ''} needs itself; GitHub rejects the workflow.`
          : `Jobs ${names.join(', ')} need each other in a cycle; GitHub rejects the workflow.`,
      remediation: 'Remove one `needs:` entry of the cycle so the jobs can run in an order.',
    });
  }
}

function reportDuplicateStepIds(ctx: RuleContext, steps: readonly StepView[], scope: string): void {
  const seen = new Map<string, Node>();
  for (const step of steps) {
    const id = mapGet(step.node, 'id');
    const text = scalarText(id);
    if (!id || !text) continue;
    const first = seen.get(text.toLowerCase());
    if (!first) {
      seen.set(text.toLowerCase(), id);
      continue;
    }
    const line = first.range ? ctx.file.lineCounter.linePos(first.range[0]).line : undefined;
    ctx.report({
      node: id,
      message: `Step id \`${text}\` is used twice in ${scope}${line ? ` (first on line ${line})` : ''}; GitHub rejects the file.`,
      remediation: 'Give every step of the job a unique `id:` and update the `steps.<id>` references.',
    });
  }
}

export const jobGraphErrorRule: Rule = {
  id: 'job-graph-error',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Finds `needs:` entries naming jobs that do not exist, jobs that need each other in a cycle, and step ids used twice in a job.',
  rationale:
    'GitHub builds the job graph before it starts a run. A `needs:` entry pointing at a job that does not exist ' +
    '(often a typo or a job renamed later), a dependency cycle, or two steps of a job sharing one `id` make the ' +
    'workflow invalid, so nothing runs. Ids are compared case-insensitively, as GitHub does.',
  remediation: 'Make every `needs:` entry name an existing job, break dependency cycles, and keep step ids unique per job.',
  examples: {
    bad: [
      'name: Release',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make',
      '  publish:',
      '    needs: biuld',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make publish',
      '',
    ].join('\n'),
    good: [
      'name: Release',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make',
      '  publish:',
      '    needs: build',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make publish',
      '',
    ].join('\n'),
  },
  check(ctx) {
    if (ctx.file.kind === 'action') {
      reportDuplicateStepIds(ctx, stepsOf(ctx.file), 'this action');
      return;
    }
    const { edges, ids } = needsEdges(ctx);
    reportUndefinedNeeds(ctx, edges, ids);
    reportCycles(ctx, edges, ids);
    for (const job of jobsOf(ctx.file)) reportDuplicateStepIds(ctx, stepsOfJob(job), `job \`${job.id}\``);
  },
};
