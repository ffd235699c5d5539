import { isMap, isScalar, isSeq, type Node, Scalar } from 'yaml';
import type { SourceRange } from '../../../domain/types';
import type { TextEdit } from '../../edit/text-edits';
import { isUnfixable, replaceScalar, type Unfixable } from '../../edit/yaml-edits';
import { githubHostedRunnerLabels, retiredRunnerLabels, selfHostedMarkerLabel } from '../../knowledge/runner-labels';
import { type FixPlan, jobsOf, mapGet, type RuleContext, type JobView, type Rule, scalarText, seqItems, type WorkflowFile } from '../../rule';
import { closestMatch } from '../../schema/edit-distance';

/** A runner label set as written: one or more label nodes (a set with several labels never names a GitHub image). */
interface LabelSet {
  labels: Array<{ text: string; node: Node }>;
  /** `matrix.os` when the labels come from the job's matrix, `the expression` for literals inside one. */
  via?: string;
  /** The literal's position inside an expression that holds it, and the offset of its opening quote. */
  range?: SourceRange;
  literalOffset?: number;
  /** Text around a matrix value in `runs-on` (`macos-${{ matrix.version }}`): the value is only the middle. */
  affix?: { prefix: string; suffix: string };
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
        return scalarText(value) === undefined ? [] : [{ labels: [{ text: label, node: value }], via: `matrix.${path}`, affix: { prefix, suffix } }];
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
    return literalOffsets(ctx.file, runsOn, quoted).map(
      (offset): LabelSet => ({ labels: [{ text: label, node: runsOn }], via: 'the expression', range: rangeAt(ctx.file, offset, quoted.length), literalOffset: offset }),
    );
  });
}

/** Offsets of every occurrence of `needle` in the source text of `node`. */
function literalOffsets(file: WorkflowFile, node: Node, needle: string): number[] {
  const [start = 0, end = 0] = node.range ?? [];
  const offsets: number[] = [];
  for (let at = file.text.indexOf(needle, start); at >= 0 && at + needle.length <= end; at = file.text.indexOf(needle, at + needle.length)) offsets.push(at);
  return offsets;
}

function rangeAt(file: WorkflowFile, offset: number, length: number): SourceRange {
  const from = file.lineCounter.linePos(offset);
  const to = file.lineCounter.linePos(offset + length);
  return { line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
}

/**
 * The new text of a label node. A plain number (a matrix `version: 12` used as `macos-${{ matrix.version }}`) gets
 * the new number as written, not re-typed by replaceScalar into a quoted string.
 */
function replaceLabel(file: WorkflowFile, node: Node, text: string): TextEdit | Unfixable {
  if (!isScalar(node)) return { unfixable: 'the label is not a plain value' };
  const [start, end] = node.range ?? [];
  if (typeof node.value === 'number' && node.type === Scalar.PLAIN && /^\d+(?:\.\d+)?$/.test(text) && start !== undefined && end !== undefined) {
    return { start, end, text };
  }
  return replaceScalar(file, node, text);
}

/**
 * Unsafe: the successor image has other preinstalled tools and versions (and for macOS Intel labels, another OS
 * version), so the job may behave differently; it could not start at all before.
 */
function replaceRetiredLabel(set: LabelSet, node: Node, text: string, replacement: string): FixPlan | { unfixable: string } {
  const title = `Replace the retired runner label \`${text}\` with \`${replacement}\``;
  const { literalOffset, affix } = set;
  if (literalOffset !== undefined) {
    // A quoted literal inside an expression: only the characters between its quotes change.
    return { safety: 'unsafe', title, edits: () => [{ start: literalOffset + 1, end: literalOffset + 1 + text.length, text: replacement }] };
  }
  if (affix !== undefined) {
    const { prefix, suffix } = affix;
    if (!replacement.startsWith(prefix) || !replacement.endsWith(suffix) || replacement.length < prefix.length + suffix.length) {
      return { unfixable: `\`${replacement}\` does not fit the \`runs-on\` template around \`${set.via ?? 'the matrix'}\`` };
    }
    const middle = replacement.slice(prefix.length, replacement.length - suffix.length);
    return { safety: 'unsafe', title, edits: ({ file }) => single(replaceLabel(file, node, middle)) };
  }
  return { safety: 'unsafe', title, edits: ({ file }) => single(replaceLabel(file, node, replacement)) };
}

function single(edit: TextEdit | Unfixable): TextEdit[] | Unfixable {
  return isUnfixable(edit) ? edit : [edit];
}

function fixOrNote(fix: FixPlan | { unfixable: string }): { fix: FixPlan } | { unfixable: string } {
  return 'unfixable' in fix ? fix : { fix };
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
  fixes: {
    safety: 'unsafe',
    description:
      'Replaces a retired label with its documented successor (src/analysis/knowledge/runner-labels.ts) where it is ' +
      'written: in `runs-on`, in matrix values (keeping quotes and flow style) and in quoted literals of expressions. ' +
      'Unsafe: the successor image has other preinstalled tools. Misspelled labels are left to a reader.',
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
        const fix = retired
          ? fixOrNote(replaceRetiredLabel(set, node, text, retired.replacement))
          : { unfixable: `\`${text}\` may be the label of your own runner, so it is not corrected automatically` };
        ctx.report({
          ...fix,
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
