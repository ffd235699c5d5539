/**
 * Which workflow files a patch affects, on plain folders (no git, no act): changed workflows, callers of changed
 * reusable workflows and users of changed local actions, transitively; and nothing followed out of the checkout.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { affectedWorkflows } from '../../src/ci-run/affected';
import { writeFiles } from '../support/ci-run-fixtures';

const composite = (...uses: string[]): string =>
  `name: x\nruns:\n  using: composite\n  steps:\n${uses.map((action) => `    - uses: ${action}\n`).join('')}    - run: bash "$GITHUB_ACTION_PATH/run.sh"\n      shell: bash\n`;
const usingActions = (...uses: string[]): string =>
  `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n${uses.map((action) => `      - uses: ${action}\n`).join('')}`;
const calling = (trigger: string, ...uses: string[]): string =>
  `on: ${trigger}\njobs:\n${uses.map((called, index) => `  call-${index}:\n    uses: ${called}\n`).join('')}`;

const FILES: Record<string, string> = {
  '.github/workflows/ci.yml': usingActions('./.github/actions/greet'),
  '.github/workflows/caller.yml': calling('push', './.github/workflows/reusable.yml', 'example/shared/.github/workflows/x.yml@v1'),
  '.github/workflows/top.yml': calling('push', './.github/workflows/mid.yml'),
  '.github/workflows/mid.yml': calling('workflow_call', './.github/workflows/reusable.yml'),
  '.github/workflows/reusable.yml': `on: workflow_call\njobs:\n  use:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./.github/actions/tool\n`,
  '.github/workflows/other.yml': usingActions('example/hello@v1'),
  '.github/workflows/notes.txt': 'not a workflow',
  '.github/actions/greet/action.yml': composite('./.github/actions/inner'),
  '.github/actions/inner/action.yml': composite(),
  '.github/actions/inner/run.sh': 'echo inner\n',
  '.github/actions/tool/action.yaml': composite(),
  '.github/actions/tool/run.sh': 'echo tool\n',
  'README.md': 'a target\n',
};

let scratch: string;
let checkoutCount = 0;

/** A fresh checkout of FILES plus `extra`. */
function checkout(extra: Record<string, string> = {}): string {
  checkoutCount += 1;
  const dir = path.join(scratch, `checkout-${checkoutCount}`);
  writeFiles(dir, { ...FILES, ...extra });
  return dir;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-affected-test-'));
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('affectedWorkflows', () => {
  let dir: string;
  beforeAll(() => {
    dir = checkout();
  });
  const affected = (changedPaths: string[], runCalledWorkflows?: boolean): string[] => affectedWorkflows({ checkoutDir: dir, changedPaths, runCalledWorkflows });

  it('takes a changed workflow file, and nothing for files no workflow uses', () => {
    expect(affected(['.github/workflows/other.yml'])).toEqual(['.github/workflows/other.yml']);
    expect(affected(['README.md', 'src/main.ts', '.github/workflows/notes.txt', '.github/dependabot.yml'])).toEqual([]);
    expect(affected([])).toEqual([]);
  });

  it('takes the workflows using a changed local action, through composite actions, for any file of its folder', () => {
    expect(affected(['.github/actions/greet/action.yml'])).toEqual(['.github/workflows/ci.yml']);
    expect(affected(['.github/actions/inner/run.sh'])).toEqual(['.github/workflows/ci.yml']);
    expect(affected(['./.github/actions/inner/new/file.txt'])).toEqual(['.github/workflows/ci.yml']);
    // A sibling folder whose name starts the same is not the action's.
    expect(affected(['.github/actions/inner-other/run.sh'])).toEqual([]);
  });

  it('takes the callers of a changed reusable workflow, directly and through other calls, unless calls are not run', () => {
    const callers = ['.github/workflows/caller.yml', '.github/workflows/mid.yml', '.github/workflows/reusable.yml', '.github/workflows/top.yml'];
    expect(affected(['.github/workflows/reusable.yml'])).toEqual(callers);
    // An action a reusable workflow uses affects it and its callers.
    expect(affected(['.github/actions/tool/run.sh'])).toEqual(callers);
    expect(affected(['.github/workflows/reusable.yml'], false)).toEqual(['.github/workflows/reusable.yml']);
    expect(affected(['.github/actions/tool/run.sh'], false)).toEqual(['.github/workflows/reusable.yml']);
  });

  it('follows cycles of calls and of composite actions without end', () => {
    const cyclic = checkout({
      '.github/workflows/a.yml': calling('[push, workflow_call]', './.github/workflows/b.yml'),
      '.github/workflows/b.yml': calling('workflow_call', './.github/workflows/a.yml'),
      '.github/workflows/loop.yml': usingActions('./.github/actions/ping'),
      '.github/actions/ping/action.yml': composite('./.github/actions/pong'),
      '.github/actions/pong/action.yml': composite('./.github/actions/ping'),
    });
    const changedIn = (changedPaths: string[]): string[] => affectedWorkflows({ checkoutDir: cyclic, changedPaths });
    expect(changedIn(['.github/workflows/b.yml'])).toEqual(['.github/workflows/a.yml', '.github/workflows/b.yml']);
    expect(changedIn(['.github/actions/pong/run.sh'])).toEqual(['.github/workflows/loop.yml']);
    expect(changedIn(['README.md'])).toEqual([]);
  });

  describe('never leaves the checkout', () => {
    let outside: string;
    let hostile: string;
    beforeAll(() => {
      // An action and a workflow outside the checkout that would make anything affected if they were read.
      outside = path.join(scratch, 'outside');
      writeFiles(outside, {
        'action/action.yml': composite('./.github/actions/inner'),
        'workflows/evil.yml': usingActions('./.github/actions/inner'),
        'workflows/ci.yml': usingActions('./README.md'),
      });
      hostile = checkout({
        '.github/workflows/climb.yml': usingActions('./../outside/action', './.github/actions/../../../outside/action', '/etc/passwd', '.github/actions/inner'),
        '.github/workflows/linked.yml': usingActions('./.github/actions/link'),
        '.github/workflows/alias.yml': usingActions('./.github/actions/alias'),
      });
      symlinkSync(path.join(outside, 'action'), path.join(hostile, '.github/actions/link'));
      symlinkSync('inner', path.join(hostile, '.github/actions/alias'));
      symlinkSync(path.join(outside, 'workflows/evil.yml'), path.join(hostile, '.github/workflows/evil.yml'));
    });
    const changedIn = (changedPaths: string[]): string[] => affectedWorkflows({ checkoutDir: hostile, changedPaths });

    it('ignores uses: and changed paths that climb out or are absolute', () => {
      expect(changedIn(['../outside/action/action.yml', '/etc/passwd', '..', '.github/../../outside/action/run.sh'])).toEqual([]);
    });

    it('does not read an action or a workflow through a symlink pointing outside, and follows one inside', () => {
      // Through the outside action (it uses inner) linked.yml would be affected; the outside evil.yml uses inner too.
      expect(changedIn(['.github/actions/inner/run.sh'])).toEqual(['.github/workflows/alias.yml', '.github/workflows/ci.yml']);
      // The link's own folder is the checkout's: a change there is one of the action it names.
      expect(changedIn(['.github/actions/link/action.yml'])).toEqual([]);
    });

    it('lists no workflows when .github/workflows is a symlink pointing outside', () => {
      const linked = path.join(scratch, 'linked-workflows');
      mkdirSync(path.join(linked, '.github'), { recursive: true });
      symlinkSync(path.join(outside, 'workflows'), path.join(linked, '.github/workflows'));
      expect(affectedWorkflows({ checkoutDir: linked, changedPaths: ['README.md'] })).toEqual([]);
    });
  });
});
