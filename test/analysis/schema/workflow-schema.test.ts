import { parseWorkflowFile } from '../../../src/analysis/parse';
import { validateWorkflowSchema } from '../../../src/analysis/schema/workflow-schema';
import { containing, matching } from '../rules/text-matchers';

const validate = (text: string): Array<{ line: number; message: string }> => {
  const file = parseWorkflowFile('.github/workflows/ci.yml', text, 'workflow');
  return validateWorkflowSchema(file).map(({ node, message }) => ({ line: file.lineCounter.linePos(node.range?.[0] ?? 0).line, message }));
};

describe('validateWorkflowSchema', () => {
  it('reports a whole file that is not a mapping', () => {
    expect(validate('just text\n')).toEqual([{ line: 1, message: matching(/^Unexpected value `just text` for the workflow file; expected a mapping/) }]);
    expect(validate('- a\n')).toEqual([{ line: 1, message: 'The workflow file must not be a list; expected a mapping.' }]);
  });

  it('reports an error inside an anchored node once, however often it is aliased', () => {
    const text = [
      'on: push',
      'jobs:',
      '  a: &job',
      '    runs-on: ubuntu-24.04',
      '    timeout-minutes: soon',
      '    steps: [{ run: x }]',
      '  b: *job',
      '  c: *job',
      '',
    ].join('\n');
    expect(validate(text)).toEqual([{ line: 5, message: containing('`soon`') }]);
  });

  it('does not throw on odd keys', () => {
    const text = ['on: push', '? [complex, key]', ': value', '~: null key', 'jobs: {}', ''].join('\n');
    expect(() => validate(text)).not.toThrow();
  });

  it('treats a closed expression as an expression and an unclosed one as a string', () => {
    expect(validate('on: push\nname: ${{ github.ref }}\njobs: {}\n')).toEqual([{ line: 2, message: containing('cannot contain an expression') }]);
    expect(validate("on: push\nname: \"${{ 'literal' }}\"\nrun-name: ${{ github.actor\njobs: {}\n")).toEqual([]);
  });
});
