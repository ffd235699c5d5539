/**
 * The fix for attacker text written to `$GITHUB_ENV` as `NAME=value`: the line becomes the multi-line form GitHub
 * documents for values that may hold newlines, with a random delimiter, so a newline in the value cannot end the
 * entry and add variables of its own; the `${{ }}` expressions pasted into the value move into the step's `env:`.
 */
import { isMap, type Scalar } from 'yaml';
import { editScalarValue } from '../../../edit/scalar-edits';
import { envReferenceEdit, quotedSpans } from '../../../edit/script-quoting';
import { applyEdits, type TextEdit } from '../../../edit/text-edits';
import { insertPair, isUnfixable, setNestedPair, type Unfixable } from '../../../edit/yaml-edits';
import { type FixPlan, mapGet, scalarText, type StepView, type WorkflowFile } from '../../../rule';
import { scriptShellOf } from '../../../step-shell';
import { aliasRisk, variableFor } from './expression-to-env';
import { programControllingEnvName, scopeOfStep, taintedExpressions } from './untrusted-flow';

/**
 * `echo "NAME=value" >> "$GITHUB_ENV"` alone on its line, with a value that reads the same in the new double quotes:
 * no quote, backslash, backquote or command substitution in it.
 */
const envWriteLine = /^([ \t]*)echo[ \t]+"([A-Za-z_]\w*)=((?:[^"\\`$]|\$(?!\())*)"[ \t]*>>[ \t]*(?:"\$GITHUB_ENV"|\$GITHUB_ENV|"\$\{GITHUB_ENV\}"|\$\{GITHUB_ENV\})[ \t]*\r?$/;

/** The shell variable holding the delimiter; the fix is not offered where the script uses the name otherwise. */
const delimiterVariable = 'delimiter';

/**
 * 16 random bytes from openssl, which the Ubuntu, macOS and Windows (Git Bash) runner images all have (uuidgen is
 * missing from many containers, /proc from macOS). `|| exit 1` stops the step where openssl is missing rather than
 * writing with a delimiter anyone can guess.
 */
const delimiterAssignment = `${delimiterVariable}="ghadelimiter_$(openssl rand -hex 16)" || exit 1`;

/** A rewritable write: the command's place in the script (without indentation and line end), its name and value. */
interface EnvWriteLine {
  start: number;
  end: number;
  name: string;
  value: string;
}

/** The rewritable GITHUB_ENV write on the line that starts at `lineStart` of the script, if that line is one. */
function envWriteLineAt(script: string, lineStart: number): EnvWriteLine | undefined {
  const lineEnd = script.indexOf('\n', lineStart);
  const line = script.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const match = envWriteLine.exec(line);
  const [, indent = '', name = '', value = ''] = match ?? [];
  if (!match) return undefined;
  return { start: lineStart + indent.length, end: lineStart + line.replace(/[ \t]*\r?$/, '').length, name, value };
}

/** Why the line at `lineStart` of a step's script cannot be rewritten, checked before a fix is offered. */
function whyNotRewritable(file: WorkflowFile, step: StepView, script: string, lineStart: number): string | undefined {
  const shell = scriptShellOf(file, step);
  if (shell !== 'posix') return typeof shell === 'object' ? shell.unknown : 'the rewrite is written for bash and sh, not PowerShell';
  const line = envWriteLineAt(script, lineStart);
  if (!line) return 'only lines of the form `echo "NAME=value" >> "$GITHUB_ENV"` (no quotes, backslashes or `$( )` in the value) are rewritten';
  if (programControllingEnvName.test(line.name)) return `\`${line.name}\` changes how later programs run, so no form of writing attacker text to it is safe; do not set it from event data`;
  // Lines this fix wrote before (another write of the script) set the variable right before they use it.
  const clash = script
    .split('\n')
    .some((text) => !text.includes(delimiterAssignment) && new RegExp(`\\b${delimiterVariable}\\b`).test(text));
  return clash ? `the script already uses a variable named \`${delimiterVariable}\`` : undefined;
}

/** The new line: the delimiter drawn, then the entry written with it; `argument` is the value in double quotes. */
function delimitedWrite(name: string, argument: string): string {
  return `${delimiterAssignment}; { echo "${name}<<\${${delimiterVariable}}"; printf '%s\\n' ${argument}; echo "\${${delimiterVariable}}"; } >> "$GITHUB_ENV"`;
}

/** The edits of the rewrite on the file as it is when fixing. */
function rewriteEdits(file: WorkflowFile, step: StepView, script: Scalar, lineStart: number): TextEdit[] | Unfixable {
  const shared = aliasRisk(script, step);
  if (shared) return shared;
  const text = scalarText(script) ?? '';
  const reason = whyNotRewritable(file, step, text, lineStart);
  const line = envWriteLineAt(text, lineStart);
  if (reason !== undefined || !line) return { unfixable: reason ?? 'the line is no longer a GITHUB_ENV write' };
  const argument = `"${line.value}"`;
  const spans = quotedSpans(argument, 'posix');
  const argumentEdits: TextEdit[] = [];
  const added = new Map<string, string>();
  for (const expression of taintedExpressions(line.value, scopeOfStep(file, step))) {
    const origin = expression.origins[0];
    const target = { step, expression: expression.text, namedAfter: origin?.via ?? origin?.context ?? 'value' };
    const { name, add } = variableFor(file, target);
    const known = added.get(name);
    if (known !== undefined && known !== expression.text) return { unfixable: `two expressions of the line would both be passed as \`${name}\`` };
    if (add) added.set(name, expression.text);
    const edit = envReferenceEdit(argument, 'posix', spans, { offset: expression.offset + 1, length: expression.text.length }, name, false);
    if (isUnfixable(edit)) return edit;
    argumentEdits.push(edit);
  }
  const scriptChange = editScalarValue(file, script, [{ start: line.start, end: line.end, text: delimitedWrite(line.name, applyEdits(argument, argumentEdits)) }]);
  if (isUnfixable(scriptChange)) return scriptChange;
  if (added.size === 0) return scriptChange;
  if (!step.node.has('env')) return [...scriptChange, insertPair(file, step.node, 'env', Object.fromEntries(added), { before: 'run' })];
  const envEntries: TextEdit[] = [];
  for (const [name, expression] of added) {
    const entry = setNestedPair(file, step.node, 'env', name, expression);
    if (isUnfixable(entry)) return entry;
    envEntries.push(entry);
  }
  const [first] = envEntries;
  // Entries of an existing map all go after its last pair, so they join into one insertion; an empty one takes one.
  if (first === undefined || (envEntries.length > 1 && !isMap(mapGet(step.node, 'env')))) return { unfixable: 'the step\'s `env:` is empty and would need several entries' };
  return [...scriptChange, { ...first, text: envEntries.map((entry) => entry.text).join('') }];
}

/**
 * The fix of the GITHUB_ENV write on the line at `lineStart` of a step's `run:` script, or why it has none. Safe:
 * for every value without a newline, later steps read the same variable with the same value (printf prints it
 * as it is, where sh's echo would have expanded backslashes); a value with newlines stays one value instead of
 * setting further variables.
 */
export function envWriteFix(file: WorkflowFile, step: StepView, script: Scalar, lineStart: number): { fix: FixPlan } | Unfixable {
  const reason = whyNotRewritable(file, step, scalarText(script) ?? '', lineStart);
  if (reason !== undefined) return { unfixable: reason };
  return {
    fix: {
      safety: 'safe',
      title: 'Write the `$GITHUB_ENV` entry in the multi-line form with a random delimiter, the value passed through `env:`',
      edits: ({ file: current }) => rewriteEdits(current, step, script, lineStart),
    },
  };
}

/** The start of the line holding `offset` in a script. */
export function lineStartOf(script: string, offset: number): number {
  return script.lastIndexOf('\n', offset - 1) + 1;
}
