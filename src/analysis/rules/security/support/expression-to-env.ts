/**
 * The fix for attacker text pasted into a script with `${{ }}`: the expression moves into the step's `env:` and the
 * script reads the variable instead (`"${PR_TITLE}"`, `$env:PR_TITLE`, `process.env.PR_TITLE`), so the value arrives
 * as data and is never parsed as code.
 */
import type { Scalar } from 'yaml';
import { editScalarValue, type ValueEdit } from '../../../edit/scalar-edits';
import { envReferenceEdit, quotedSpans, type ScriptLanguage } from '../../../edit/script-quoting';
import { isUnfixable, setNestedPair, type Unfixable } from '../../../edit/yaml-edits';
import { type FixPlan, mapEntries, mapGet, rootMap, scalarText, type StepView, type WorkflowFile } from '../../../rule';
import { scriptShellOf } from '../../../step-shell';
import { expressionShape, findExpressions, parseExpression } from './expressions';
import { envNameFor } from './untrusted-flow';

/** Where the expression is pasted: the script node of a step and what reads it. */
export interface PastedExpression {
  step: StepView;
  script: Scalar;
  kind: 'run' | 'github-script';
  /** The whole `${{ ... }}` as written; every occurrence of this text in the script is replaced. */
  expression: string;
  /** The context the env var is named after (`github.event.issue.title` gives ISSUE_TITLE). */
  namedAfter: string;
}

/** Names a new variable must not take: the runner's own, and ones that change how programs behave. */
const reservedName = /^(?:GITHUB_|RUNNER_|ACTIONS_|INPUT_|STATE_)|^(?:PATH|HOME|SHELL|PWD|USER|IFS|CI|TEMP|TMP|TMPDIR|LANG|ENV|BASH_ENV|NODE_OPTIONS|LD_PRELOAD)$/;

/** The language of a `run:` script from its shell (pwsh and Windows PowerShell read env vars alike). */
function runLanguage(file: WorkflowFile, step: StepView): ScriptLanguage | Unfixable {
  const shell = scriptShellOf(file, step);
  if (typeof shell === 'object') return { unfixable: shell.unknown };
  return shell === 'posix' ? 'posix' : 'powershell';
}

/** The `env:` entries that apply to the step: workflow, job and step, each as a list of names and values. */
function envScopes(file: WorkflowFile, step: StepView): Array<Array<{ key: string; value: string | undefined }>> {
  return [mapGet(rootMap(file), 'env'), mapGet(step.job?.node, 'env'), mapGet(step.node, 'env')].map((env) =>
    mapEntries(env).map(({ key, value }) => ({ key, value: scalarText(value) })),
  );
}

function sameExpression(a: string, b: string): boolean {
  const [left] = findExpressions(a.trim());
  const [right] = findExpressions(b.trim());
  if (left?.text !== a.trim() || right?.text !== b.trim()) return false;
  const leftNode = parseExpression(left.body);
  const rightNode = parseExpression(right.body);
  return leftNode !== undefined && rightNode !== undefined && expressionShape(leftNode) === expressionShape(rightNode);
}

/**
 * The env var the script will read, and whether the step's `env:` needs it added. `${{ env.X }}` reads X itself; an
 * entry of the step's own `env:` with the same expression is reused; else a new name from the context, one that no
 * env block of the step's scope has, that no other text of the file names (a script may set or read it) and that is
 * not the runner's.
 */
export function variableFor(file: WorkflowFile, target: Pick<PastedExpression, 'step' | 'expression' | 'namedAfter'>): { name: string; add: boolean } {
  const scopes = envScopes(file, target.step);
  const [embedded] = findExpressions(target.expression);
  const envRead = /^\s*env\.([A-Za-z_]\w*)\s*$/i.exec(embedded?.body ?? '')?.[1];
  if (envRead !== undefined) {
    const declared = scopes.flat().find(({ key }) => key.toLowerCase() === envRead.toLowerCase());
    return { name: declared?.key ?? envRead, add: false };
  }
  const reused = scopes[2]?.find(({ value }) => value !== undefined && sameExpression(value, target.expression));
  if (reused !== undefined) return { name: reused.key, add: false };
  const taken = new Set(scopes.flat().map(({ key }) => key.toUpperCase()));
  const free = (name: string): boolean => !taken.has(name) && !reservedName.test(name) && !new RegExp(`\\b${name}\\b`).test(file.text);
  const base = envNameFor(target.namedAfter.replace(/\[[^\]]*\]/g, ''));
  if (free(base)) return { name: base, add: true };
  for (let suffix = 2; ; suffix += 1) if (free(`${base}_${suffix}`)) return { name: `${base}_${suffix}`, add: true };
}

/** The value edits that make the script read `name` at every occurrence of the expression. */
function scriptEdits(text: string, language: ScriptLanguage, expression: string, name: string): ValueEdit[] | Unfixable {
  const spans = quotedSpans(text, language);
  const [embedded] = findExpressions(expression);
  // toJSON() pasted as JavaScript code is a value literal; JSON.parse() of the variable is the same value.
  const parseJson = /^\s*tojson\s*\(/i.test(embedded?.body ?? '');
  const edits: ValueEdit[] = [];
  for (const found of findExpressions(text)) {
    if (found.text !== expression) continue;
    const edit = envReferenceEdit(text, language, spans, { offset: found.offset, length: found.text.length }, name, parseJson);
    if (isUnfixable(edit)) return edit;
    edits.push(edit);
  }
  return edits;
}

/** Why a fix adding to the step's `env:` would be wrong when the script or step is shared through a YAML alias. */
export function aliasRisk(script: Scalar, step: StepView): Unfixable | undefined {
  if (script.anchor === undefined && step.node.anchor === undefined) return undefined;
  return { unfixable: 'the script or its step has a YAML anchor, so an alias may reuse it without the new `env:` entry' };
}

/**
 * Safe: for every value without quotes, backslashes or line breaks the script sees the same text as before; values
 * with them stop being code. Not offered for shells other than bash, sh and PowerShell, for literal strings and
 * here-documents the variable cannot be read in, or where the script or step may be reused through a YAML alias.
 */
export function moveExpressionToEnv(target: PastedExpression): FixPlan {
  return {
    safety: 'safe',
    title: `Pass \`${target.expression}\` to the script through \`env:\``,
    edits: ({ file }) => {
      const shared = aliasRisk(target.script, target.step);
      if (shared) return shared;
      const text = scalarText(target.script) ?? '';
      const language = target.kind === 'github-script' ? 'javascript' : runLanguage(file, target.step);
      if (isUnfixable(language)) return language;
      const { name, add } = variableFor(file, target);
      const edits = scriptEdits(text, language, target.expression, name);
      if (isUnfixable(edits)) return edits;
      const scriptChange = editScalarValue(file, target.script, edits);
      if (isUnfixable(scriptChange) || !add) return scriptChange;
      const envEntry = setNestedPair(file, target.step.node, 'env', name, target.expression, target.kind === 'run' ? { before: 'run' } : { after: 'with' });
      return isUnfixable(envEntry) ? envEntry : [...scriptChange, envEntry];
    },
  };
}
