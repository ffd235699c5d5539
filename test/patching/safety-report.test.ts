import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { type PatchedFile, safetyReport } from '../../src/patching/safety-report';

const cliGo = readFileSync(join(__dirname, '../fixtures/ciworkflows/cli-go.yml'), 'utf8');
const checkDist = readFileSync(join(__dirname, '../fixtures/ciworkflows/checkout-check-dist.yml'), 'utf8');
const GO = '.github/workflows/go.yml';
const DIST = '.github/workflows/check-dist.yml';
const GITHUB_TOKEN = `ghp_${'R8x2Kq7LmN4pT9vW3yZ6bC1dF5gH0jS2aE7u'}`;

function diffOf(files: readonly PatchedFile[]): string {
  return files
    .map((file) =>
      createTwoFilesPatch(file.before === null ? '/dev/null' : `a/${file.path}`, file.after === null ? '/dev/null' : `b/${file.path}`, file.before ?? '', file.after ?? ''),
    )
    .join('');
}

function report(files: PatchedFile[]) {
  return safetyReport(files, diffOf(files));
}

describe('safetyReport', () => {
  it('passes a typical hardening patch (pinning and least privilege) across two files', () => {
    const pinned = cliGo.replaceAll('actions/checkout@v4', 'actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v4');
    const withPermissions = checkDist.replace('jobs:\n', 'permissions:\n  contents: read\n\njobs:\n');
    const result = report([
      { path: GO, before: cliGo, after: pinned },
      { path: DIST, before: checkDist, after: withPermissions },
    ]);
    expect(result.ok).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.neutralChanges.map((change) => change.kind)).toEqual(['step-changed', 'step-changed', 'permissions-narrowed']);
  });

  it('blocks a patch that adds a credential literal', () => {
    const after = cliGo.replace('GH_TOKEN: ${{ github.token }}', `GH_TOKEN: ${GITHUB_TOKEN}`);
    const result = report([{ path: GO, before: cliGo, after }]);
    expect(result.ok).toBe(false);
    expect(result.violations).toEqual([
      {
        kind: 'secret-literal-added',
        message: 'line 35 adds a GitHub token (ghp_****); reference a secret (${{ secrets.NAME }}) instead',
        path: GO,
      },
    ]);
  });

  it('blocks deleting a workflow file', () => {
    const result = report([{ path: DIST, before: checkDist, after: null }]);
    expect(result.ok).toBe(false);
    expect(result.violations.map((violation) => violation.kind)).toEqual(['file-deleted']);
  });

  it('does not judge files that are not CI workflows, but scans their added lines', () => {
    const notes: PatchedFile = { path: 'docs/notes.md', before: 'old notes\n', after: null };
    expect(report([notes])).toMatchObject({ ok: true, violations: [], neutralChanges: [{ kind: 'other-file-deleted' }] });
    const script: PatchedFile = { path: 'scripts/release.sh', before: null, after: `#!/bin/sh\nexport GH_TOKEN=${GITHUB_TOKEN}\n` };
    expect(report([script]).violations).toMatchObject([{ kind: 'secret-literal-added', path: 'scripts/release.sh' }]);
  });

  it('blocks when the diff cannot be read', () => {
    const result = safetyReport([{ path: GO, before: cliGo, after: cliGo }], '--- a/x\n+++ b/x\n@@ -1,1 +1,9 @@\n-a\n+b\n');
    expect(result.ok).toBe(false);
    expect(result.violations.map((violation) => violation.kind)).toEqual(['diff-unreadable']);
  });

  it('collects violations of several kinds from several files', () => {
    const go = cliGo.replace('on: [push, pull_request]', 'on: [push, pull_request_target]');
    const dist = checkDist.replace('      - name: Install dependencies\n        run: npm ci\n\n', '');
    const result = report([
      { path: GO, before: cliGo, after: go },
      { path: DIST, before: checkDist, after: dist },
    ]);
    expect(result.violations.map((violation) => `${violation.path} ${violation.kind}`)).toEqual([
      `${GO} trigger-removed`,
      `${GO} pull-request-target-added`,
      `${DIST} step-removed`,
    ]);
  });
});
