import { parseWorkflowFile } from '../../../src/analysis/parse';
import { stepsOf } from '../../../src/analysis/rule';
import { isPublishingWorkflowFile, stepAction } from '../../../src/analysis/rules/cost-facts';
import { majorVersion } from '../../../src/analysis/security-sites';

function file(text: string, path = '.github/workflows/ci.yml') {
  return parseWorkflowFile(path, text, 'workflow');
}

describe('majorVersion', () => {
  it.each([
    ['actions/setup-go@v4', 4],
    ['actions/setup-go@v3.5.0', 3],
    ['actions/setup-go@5', 5],
    ['actions/setup-go@0aaccfd150d50ccaeb58ebd88d36e91967a5f35b # v5.4.0', 5],
    ['actions/setup-go@0aaccfd150d50ccaeb58ebd88d36e91967a5f35b #v2', 2],
    ['actions/setup-go@0aaccfd150d50ccaeb58ebd88d36e91967a5f35b # pin@v3.1.0', 3],
    ['actions/setup-go@0aaccfd150d50ccaeb58ebd88d36e91967a5f35b', undefined],
    ['actions/setup-go@main # tracks the branch', undefined],
  ])('reads %s as %s', (uses, major) => {
    const workflowFile = file(`on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n      - run: go test\n`);
    const [step] = stepsOf(workflowFile);
    const action = step === undefined ? undefined : stepAction(step);
    expect(action === undefined ? 'no action' : majorVersion(workflowFile, action)).toBe(major);
  });
});

describe('isPublishingWorkflowFile', () => {
  const job = 'jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n';
  it.each([
    ['a release trigger', `on:\n  release:\n    types: [published]\n${job}      - run: make\n`],
    ['tag pushes', `on:\n  push:\n    branches: [main]\n    tags: ['v*']\n${job}      - run: make\n`],
    ['a publishing command after flags', `on: push\n${job}      - run: npm --workspace=pkg publish\n`],
    ['a publishing action', `on: push\n${job}      - uses: pypa/gh-action-pypi-publish@release/v1\n`],
    ['an image push', `on: push\n${job}      - uses: docker/build-push-action@v6\n        with:\n          push: true\n`],
    ['a release name', `name: Publish docs\non: push\n${job}      - run: make\n`],
  ])('recognizes %s', (_name, text) => {
    expect(isPublishingWorkflowFile(file(text))).toBe(true);
  });

  it('recognizes a release file name', () => {
    expect(isPublishingWorkflowFile(file(`on: push\n${job}      - run: make\n`, '.github/workflows/release-nightly.yml'))).toBe(true);
  });

  it('leaves ordinary CI alone', () => {
    const text = `name: CI\non:\n  push:\n    branches: [main]\n  pull_request:\n${job}      - run: npm ci && npm test\n      - uses: docker/build-push-action@v6\n        with:\n          push: false\n`;
    expect(isPublishingWorkflowFile(file(text))).toBe(false);
  });
});
