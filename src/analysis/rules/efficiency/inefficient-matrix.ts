import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import {
  type JobView,
  jobsOf,
  mapEntries,
  mapGet,
  mapPair,
  type Rule,
  type RuleContext,
  scalarText,
  seqItems,
} from '../../rule';
import { canonicalJson, pullRequestRunsPerCommit } from '../cost-facts';

/** Matrices with more jobs than this on every pull request commit are reported. */
const largeMatrixJobs = 30;
/** Above this many combinations the include/exclude checks are skipped (the size finding says enough). */
const enumerationLimit = 5000;

interface Dimension {
  /** Lower-case: GitHub matches matrix keys case-insensitively (`OS` in the matrix, `os` in `exclude`). */
  name: string;
  /** As written, for messages. */
  label: string;
  values: Node[];
}

/** A matrix value compared the way GitHub sees it; scalars also by their source text (`3.10` and '3.10'). */
function valueForms(ctx: RuleContext, node: Node): string[] {
  if (!isScalar(node)) return [canonicalJson(node.toJS(ctx.file.doc))];
  const forms = [canonicalJson(node.value)];
  const [start, end] = node.range ?? [0, 0];
  const source = ctx.file.text.slice(start, end).trim().replace(/^(['"])(.*)\1$/s, '$2');
  if (source !== '') forms.push(canonicalJson(source), canonicalJson(String(node.value)));
  return forms;
}

function sameValue(ctx: RuleContext, a: Node, b: Node): boolean {
  const forms = new Set(valueForms(ctx, a));
  return valueForms(ctx, b).some((form) => forms.has(form));
}

/** Strict equality of two nodes' data (for repeated values and entries). */
function identical(ctx: RuleContext, a: Node, b: Node): boolean {
  return canonicalJson(a.toJS(ctx.file.doc)) === canonicalJson(b.toJS(ctx.file.doc));
}

function isExpression(node: Node | null): boolean {
  return isScalar(node) && (scalarText(node) ?? '').includes('${{');
}

/** A combination: lower-case dimension name to value node. */
type Combination = Map<string, Node>;

/** The combinations the dimensions generate (none without dimensions: then only `include` creates jobs). */
function combinations(dimensions: readonly Dimension[]): Combination[] {
  if (dimensions.length === 0) return [];
  return dimensions.reduce<Combination[]>(
    (partial, { name, values }) =>
      partial.flatMap((combination) => values.map((value) => new Map<string, Node>([...combination, [name, value]]))),
    [new Map<string, Node>()],
  );
}

/** True when every key of the entry is a dimension whose value in the combination equals the entry's value. */
function entryMatches(ctx: RuleContext, entry: YAMLMap, combination: Combination): boolean {
  return mapEntries(entry).every(({ key, value }) => {
    const actual = combination.get(key.toLowerCase());
    return actual !== undefined && value !== null && sameValue(ctx, actual, value);
  });
}

function checkDuplicateValues(ctx: RuleContext, job: JobView, dimensions: readonly Dimension[]): void {
  for (const dimension of dimensions) {
    dimension.values.forEach((value, index) => {
      if (!dimension.values.slice(0, index).some((earlier) => identical(ctx, earlier, value))) return;
      ctx.report({
        node: value,
        message:
          `matrix \`${dimension.label}\` of job \`${job.id}\` lists this value twice, ` +
          'so every combination with it runs twice',
        remediation: 'Remove the repeated value.',
      });
    });
  }
}

function checkExcludes(
  ctx: RuleContext,
  job: JobView,
  excludes: readonly YAMLMap[],
  dimensions: readonly Dimension[],
): void {
  for (const entry of excludes) {
    for (const { key, value } of mapEntries(entry)) {
      const dimension = dimensions.find((candidate) => candidate.name === key.toLowerCase());
      // Unknown keys are a schema error reported elsewhere; structured and computed values are not compared.
      if (dimension === undefined || !isScalar(value) || isExpression(value)) continue;
      if (dimension.values.some((candidate) => sameValue(ctx, candidate, value))) continue;
      ctx.report({
        node: value,
        message:
          `this \`exclude\` entry of job \`${job.id}\` matches no combination: ` +
          `\`${scalarText(value) ?? ''}\` is not a value of matrix \`${key}\``,
        remediation:
          'Fix the value so it names a value of the matrix (often a typo or a value removed from the matrix later), ' +
          'or delete the entry.',
      });
    }
  }
}

function checkIncludes(
  ctx: RuleContext,
  job: JobView,
  includes: readonly Node[],
  dimensions: readonly Dimension[],
  remaining: readonly Combination[] | undefined,
): void {
  includes.forEach((entry, index) => {
    if (!isMap(entry)) return;
    if (includes.slice(0, index).some((earlier) => identical(ctx, earlier, entry))) {
      ctx.report({
        node: entry,
        message:
          `this \`include\` entry of job \`${job.id}\` repeats an earlier one, ` +
          'so it adds nothing or runs the same job twice',
        remediation: 'Remove the repeated entry.',
      });
      return;
    }
    if (remaining === undefined || dimensions.length === 0) return;
    const entries = mapEntries(entry);
    const isDimension = (key: string): boolean => dimensions.some((dimension) => dimension.name === key.toLowerCase());
    const onlyDimensions = entries.length > 0 && entries.every(({ key }) => isDimension(key));
    if (!onlyDimensions || !remaining.some((combination) => entryMatches(ctx, entry, combination))) return;
    ctx.report({
      node: entry,
      message:
        `this \`include\` entry of job \`${job.id}\` matches a combination the matrix already generates ` +
        'and adds no new key, so it has no effect',
      remediation: 'Remove the entry, or add the extra keys it was meant to set for that combination.',
    });
  });
}

/**
 * True when the job's condition may keep it from running on every pull request commit (event, ref, labels, or
 * the outputs of a change-detection job); evaluating it is out of reach, so such jobs are not sized.
 */
function mayBeSkippedOnPullRequests(job: JobView): boolean {
  const condition = scalarText(mapGet(job.node, 'if')) ?? '';
  return /event_name|github\.ref|head_ref|base_ref|labels|needs\.|github\.event\./.test(condition);
}

export const inefficientMatrixRule: Rule = {
  id: 'inefficient-matrix',
  category: 'efficiency',
  severity: 'low',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    'Finds build matrices that run duplicate combinations, carry include or exclude entries without effect, ' +
    `or start more than ${largeMatrixJobs} jobs for every pull request commit.`,
  rationale:
    "A value listed twice in a matrix runs every combination containing it twice. An `exclude` entry whose value is " +
    "not in the matrix matches nothing (usually a typo or a value removed later, so the combination the author meant " +
    "to skip still runs), and an `include` entry that only repeats a generated combination does nothing. Very large " +
    "matrices on pull requests multiply runner minutes and queue time for every push; a smaller subset on pull " +
    "requests with the full matrix on the default branch or a schedule usually catches the same problems. Matrices " +
    "computed by expressions are not evaluated.",
  remediation:
    'Remove repeated values and entries without effect. For large matrices, run a representative subset on pull ' +
    'requests (for example with an `include`-only matrix chosen by `github.event_name`) and the full matrix on ' +
    'pushes to the default branch or on a schedule.',
  examples: {
    bad: `name: CI
on: pull_request
jobs:
  test:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, windows-latest, ubuntu-latest]
        node: [20, 22]
        exclude:
          - os: macos-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm test
`,
    good: `name: CI
on: pull_request
jobs:
  test:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, windows-latest]
        node: [20, 22]
        exclude:
          - os: windows-latest
            node: 20
    steps:
      - uses: actions/checkout@v4
      - run: npm test
`,
  },
  check(ctx) {
    const onPullRequest = pullRequestRunsPerCommit(ctx.file);
    for (const job of jobsOf(ctx.file)) {
      const matrixPair = mapPair(mapGet(job.node, 'strategy'), 'matrix');
      const matrix = matrixPair?.value;
      if (matrixPair === undefined || !isMap(matrix)) continue;
      const dimensionEntries = mapEntries(matrix).filter(({ key }) => key !== 'include' && key !== 'exclude');
      const dimensions: Dimension[] = dimensionEntries.flatMap(({ key, value }) =>
        isSeq(value) ? [{ name: key.toLowerCase(), label: key, values: seqItems(value) }] : [],
      );
      checkDuplicateValues(ctx, job, dimensions);
      // A dimension given as, or containing, an expression makes the combinations unknowable (and exclude entries
      // against such values are the usual way to switch combinations per event).
      const computed = dimensions.some((dimension) => dimension.values.some(isExpression));
      if (computed || dimensions.length !== dimensionEntries.length) continue;
      const excludeNode = mapGet(matrix, 'exclude');
      const includeNode = mapGet(matrix, 'include');
      const excludes = seqItems(excludeNode).filter((entry) => isMap(entry));
      const includes = seqItems(includeNode);
      const excludesKnown =
        (excludeNode === undefined || isSeq(excludeNode)) &&
        excludes.every((entry) => !mapEntries(entry).some(({ value }) => isExpression(value)));
      const generated = dimensions.reduce((count, dimension) => count * dimension.values.length, 1);
      checkExcludes(ctx, job, excludes, dimensions);
      const excluded = (combination: Combination): boolean =>
        excludes.some((entry) => entryMatches(ctx, entry, combination));
      const remaining =
        excludesKnown && generated <= enumerationLimit
          ? combinations(dimensions).filter((combination) => !excluded(combination))
          : undefined;
      checkIncludes(ctx, job, includes, dimensions, remaining);
      const includesKnown = includeNode === undefined || isSeq(includeNode);
      if (!onPullRequest || mayBeSkippedOnPullRequests(job) || remaining === undefined || !includesKnown) continue;
      // Include entries that fit no remaining combination add one job each; the others only extend combinations.
      const fitsNone = (entry: Node): boolean =>
        isMap(entry) && !remaining.some((combination) => entryFitsOriginalValues(ctx, entry, combination));
      const total = remaining.length + includes.filter(fitsNone).length;
      if (total <= largeMatrixJobs) continue;
      ctx.report({
        node: matrixPair.key,
        message: `the matrix of job \`${job.id}\` starts ${total} jobs for every pull request commit`,
        remediation:
          'Run a representative subset of the matrix on pull requests and the full matrix on pushes to the default ' +
          'branch or on a schedule; keep `fail-fast` on for pull requests so one failure stops the rest.',
      });
    }
  },
};

/**
 * GitHub adds an include entry to every combination whose original values it does not overwrite; only when it fits
 * none does it create a new job. Keys that are not dimensions never conflict.
 */
function entryFitsOriginalValues(ctx: RuleContext, entry: YAMLMap, combination: Combination): boolean {
  return mapEntries(entry).every(({ key, value }) => {
    const actual = combination.get(key.toLowerCase());
    return actual === undefined || (value !== null && sameValue(ctx, actual, value));
  });
}
