import { workflowFileKind } from '../../src/analysis/parse';

describe('workflowFileKind', () => {
  it.each([
    ['.github/workflows/ci.yml', 'workflow'],
    ['.github/workflows/release.yaml', 'workflow'],
    ['.github/actions/setup/action.yml', 'action'],
    ['.github/actions/build/ci/action.yaml', 'action'],
  ])('reads %s as a %s', (path, kind) => {
    expect(workflowFileKind(path)).toBe(kind);
  });

  it.each([
    // GitHub loads workflows only from the folder itself; apache/arrow keeps a labeler configuration here.
    '.github/workflows/dev_pr/labeler.yml',
    '.github/workflows/templates/ci.yml',
    '.github/workflows/README.md',
    '.github/actions/setup/helper.yml',
    '.github/dependabot.yml',
    'sub/.github/workflows/ci.yml',
  ])('does not read %s', (path) => {
    expect(workflowFileKind(path)).toBeUndefined();
  });
});
