import { isScalar, type Scalar } from 'yaml';
import { editScalarValue, pathTo } from '../../../src/analysis/edit/scalar-edits';
import { applyEdits } from '../../../src/analysis/edit/text-edits';
import { isUnfixable } from '../../../src/analysis/edit/yaml-edits';
import { parseWorkflowFile } from '../../../src/analysis/parse';
import { mapGet, stepsOf, type WorkflowFile } from '../../../src/analysis/rule';

const expression = '${{ github.event.issue.title }}';

function runOf(file: WorkflowFile): Scalar {
  const run = mapGet(stepsOf(file)[0]?.node, 'run');
  if (!isScalar(run)) throw new Error('no run scalar');
  return run;
}

/** The file with every occurrence of the expression in the first step's script replaced by `replacement`. */
function edited(lines: string[], replacement: string, newline = '\n'): string {
  const file = parseWorkflowFile('.github/workflows/ci.yml', lines.join(newline), 'workflow');
  const run = runOf(file);
  const value = String(run.value);
  const edits = [];
  for (let at = value.indexOf(expression); at >= 0; at = value.indexOf(expression, at + 1)) edits.push({ start: at, end: at + expression.length, text: replacement });
  const result = editScalarValue(file, run, edits);
  return isUnfixable(result) ? `unfixable: ${result.unfixable}` : applyEdits(file.text, result);
}

const head = ['on: issues', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps:'];

describe('editScalarValue', () => {
  it('edits a literal block in place, keeping tabs, comments and CRLF', () => {
    const lines = [...head, '      - run: | # script', `          echo "${expression}"`, `          \tprintf %s ${expression}`, ''];
    expect(edited(lines, '"${T}"', '\r\n')).toBe(
      [...head, '      - run: | # script', '          echo ""${T}""', '          \tprintf %s "${T}"', ''].join('\r\n'),
    );
  });

  it('escapes the replacement for double- and single-quoted scalars', () => {
    expect(edited([...head, `      - run: "echo ${expression}"`, ''], '"${T}"')).toContain('run: "echo \\"${T}\\""');
    expect(edited([...head, `      - run: 'echo ${expression}'`, ''], "'x'")).toContain("run: 'echo ''x'''");
  });

  it('writes a plain scalar anew when the edit would not read back plain', () => {
    expect(edited([...head, `      - run: ${expression}`, ''], '"${T}" # c')).toContain(`run: '"\${T}" # c'`);
  });

  it('refuses a folded block whose source splits the text differently from its value', () => {
    const lines = [...head, '      - run: >', '          echo ${{ github.event.issue.', '          title }}', ''];
    const file = parseWorkflowFile('.github/workflows/ci.yml', lines.join('\n'), 'workflow');
    const run = runOf(file);
    const at = String(run.value).indexOf('${{');
    const result = editScalarValue(file, run, [{ start: at, end: String(run.value).indexOf('}}') + 2, text: 'x' }]);
    expect(isUnfixable(result)).toBe(true);
  });

  it('finds the path of a node', () => {
    const file = parseWorkflowFile('.github/workflows/ci.yml', [...head, '      - run: make', ''].join('\n'), 'workflow');
    expect(pathTo(file.doc.contents, runOf(file))).toEqual(['jobs', 'a', 'steps', 0, 'run']);
  });
});
