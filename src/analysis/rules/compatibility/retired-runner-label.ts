import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { SourceRange } from '../../../domain/types';
import { githubHostedRunnerLabels, retiredRunnerLabels, selfHostedMarkerLabel } from '../../knowledge/runner-labels';
import { findInNodeSource, jobsOf, mapGet, type RuleContext, type JobView, type Rule, scalarText, seqItems } from '../../rule';
import { closestMatch } from '../../schema/edit-distance';

/** A runner label set as written: one or more label nodes (a set with several labels never names a GitHub image). */
interface LabelSet {
  labels: Array<{ text: string; node: Node }>;
  /** `matrix.os` when the labels come from the job's matrix, `the expression` for literals inside one. */
  via?: string;
  /** The literal's position inside an expression that holds it. */
  range?: SourceRange;
}

/** A whole-value `${{ matrix.a.b }}`, possibly with literal text around it (`macos-${{ matrix.version }}`). */
const MATRIX_TEMPLATE = /^([^$]*)\$\{\{\s*matrix\.([A-Za-z0-9_.-]+)\s*\}\}([^$]*)$/;
/** Single-quoted literals inside an expression, e.g. `github.repository == 'x' && 'ubuntu-20.04' || 'ubuntu-24.04'`. */
const QUOTED_LITERAL = /'([^']*)'/g;
/** The image families GitHub hosts; a one-word label after them (`ubuntu-lastest`) is checked for typos. */
const HOSTED_SHAPE = /^(ubuntu|windows|macos)-[a-z0-9.]+$/;
/** Version labels GitHub may add later than our table: never reported as typos. */
const FUTURE_VERSION_SHAPE = /^(ubuntu-\d\d\.(04|10)|windows-20\d\d|macos-\d+(\.\d+)?)$/;

function labelSetOf(node: Node | null | undefined, via?: string): LabelSet | undefined {
  const items = isSeq(node) ? seqItems(node) : node ? [node] : [];
  const labels = items.flatMap((item) => {
    const text = scalarText(item);
    return text === undefined ? [] : [{ text, node: item }];
  });
  return labels.length > 0 ? { labels, ...(via ? { via } : {}) } : undefined;
}

/** The nodes `matrix.<path>` can take: the values listed under the key and in `include` entries. */
function matrixValues(job: JobView, path: string): Node[] {
  const matrix = mapGet(mapGet(job.node, 'strategy'), 'matrix');
  if (!isMap(matrix)) return [];
  const [head = '', ...rest] = path.split('.');
  const descend = (node: Node | undefined): Node | undefined => rest.reduce<Node | undefined>((current, key) => mapGet(current, key), node);
  const listed = head === 'include' || head === 'exclude' ? [] : seqItems(mapGet(matrix, head));
  const included = seqItems(mapGet(matrix, 'include')).map((entry) => mapGet(entry, head));
  return [...listed, ...included].flatMap((node) => {
    const value = descend(node);
    return value ? [value] : [];
  });
}

/** The label sets a job may run on, with matrix values resolved; literals inside other expressions come apart. */
function jobLabelSets(ctx: RuleContext, job: JobView): LabelSet[] {
  let runsOn = mapGet(job.node, 'runs-on');
  if (isMap(runsOn)) {
    // A runner group is a set of self-hosted or larger runners chosen by the organization.
    if (mapGet(runsOn, 'group') !== undefined) return [];
    runsOn = mapGet(runsOn, 'labels');
  }
  if (!isScalar(runsOn)) {
    const set = labelSetOf(runsOn);
    return set ? [set] : [];
  }
  const text = scalarText(runsOn) ?? '';
  if (!text.includes('${{')) {
    const set = labelSetOf(runsOn);
    return set ? [set] : [];
  }
  const template = MATRIX_TEMPLATE.exec(text.trim());
  if (template) {
    const [, prefix = '', path = '', suffix = ''] = template;
    return matrixValues(job, path).flatMap((value) => {
      if (isScalar(value) && (prefix || suffix)) {
        const label = `${prefix}${scalarText(value) ?? ''}${suffix}`;
        return scalarText(value) === undefined ? [] : [{ labels: [{ text: label, node: value }], via: `matrix.${path}` }];
      }
      const set = labelSetOf(value, `matrix.${path}`);
      return set ? [set] : [];
    });
  }
  // Other expressions: only the literal labels they may pick, pointed at precisely inside the expression.
  const quotedLabels = new Set([...text.matchAll(QUOTED_LITERAL)].map(([quoted]) => quoted));
  return [...quotedLabels].flatMap((quoted) => {
    const label = quoted.slice(1, -1);
    if (!retiredRunnerLabels.has(label.toLowerCase())) return [];
    return findInNodeSource(ctx.file, runsOn, quoted).map((range): LabelSet => ({ labels: [{ text: label, node: runsOn }], via: 'the expression', range }));
  });
}

function typoOf(label: string): string | undefined {
  if (!HOSTED_SHAPE.test(label) || FUTURE_VERSION_SHAPE.test(label)) return undefined;
  return closestMatch(label, githubHostedRunnerLabels, 2);
}

export const retiredRunnerLabelRule: Rule = {
  id: 'retired-runner-label',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow'],
  description: 'Finds jobs that ask for a GitHub-hosted runner image GitHub has retired, or a misspelled GitHub-hosted label.',
  rationale:
    'GitHub removes old runner images on a published schedule (ubuntu-20.04 in April 2025, windows-2019 in June 2025, ' +
    'macos-13 in December 2025). A job whose `runs-on` names a retired image, or a label no runner has such as ' +
    '`ubuntu-lastest`, never starts: it waits for a runner until GitHub cancels it. Labels coming from the job ' +
    'matrix are resolved, so every matrix leg is checked. Label sets with `self-hosted` or several labels, runner ' +
    'groups and unknown custom labels are left alone: they name your own or larger runners.',
  remediation:
    'Move the job to a supported image of the same family (e.g. `ubuntu-24.04`, `windows-2022`, `macos-15`), then ' +
    'check that the tools the job needs are still preinstalled there.',
  examples: {
    bad: ['name: Build', 'on: push', 'jobs:', '  build:', '    runs-on: ubuntu-20.04', '    steps:', '      - run: make', ''].join('\n'),
    good: ['name: Build', 'on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: make', ''].join('\n'),
  },
  check(ctx) {
    const reported = new Set<Node>();
    for (const job of jobsOf(ctx.file)) {
      for (const set of jobLabelSets(ctx, job)) {
        const lowered = set.labels.map(({ text }) => text.toLowerCase());
        if (set.labels.length !== 1 || lowered.includes(selfHostedMarkerLabel)) continue;
        const [{ text, node } = { text: '', node: job.keyNode }] = set.labels;
        const label = text.toLowerCase();
        const from = set.via ? ` (from \`${set.via}\`)` : '';
        const { range } = set;
        const retired = retiredRunnerLabels.get(label);
        const typo = retired ? undefined : githubHostedRunnerLabels.has(label) ? undefined : typoOf(label);
        if (!retired && !typo) continue;
        if (reported.has(node) && !range) continue;
        reported.add(node);
        ctx.report({
          node,
          ...(range ? { range } : {}),
          ...(typo ? { confidence: 'medium' as const } : {}),
          message: retired
            ? `Job \`${job.id}\` runs on \`${text}\`${from}, a GitHub-hosted image retired on ${retired.retired}; the job can no longer start.`
            : `Job \`${job.id}\` runs on \`${text}\`${from}, which is not a GitHub-hosted runner label; did you mean \`${typo ?? ''}\`?`,
          remediation: retired
            ? `Use \`${retired.replacement}\` (or another supported image) and check that the tools the job needs are still preinstalled.`
            : `Use \`${typo ?? ''}\`. If \`${text}\` is the label of your own runner, add \`self-hosted\` to the label list.`,
        });
      }
    }
  },
};
