/**
 * The CLI in-process through main(argv, io), plus real spawns of bin/wpa.js on a build of the sources.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { transformFileSync } from '@swc/core';
import type { CliIo } from '../../src/cli/common';
import { main } from '../../src/cli/wpa';
import { allRules } from '../../src/analysis/rules';
import { sarifValidator } from '../support/sarif-schema';

const REPO_ROOT = join(__dirname, '../..');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/cli');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(argv: string[], options: { cwd?: string; tty?: boolean } = {}): Run {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: options.cwd ?? FIXTURES,
    env: {},
  };
  const code = main(argv, io);
  if (typeof code !== 'number') throw new Error('analyze and rules answer synchronously (audit has its own suite)');
  return { code, stdout, stderr };
}

interface JsonReport {
  repositories: Array<{
    root: string;
    score: number;
    files: Array<{ path: string; score: number }>;
    findings: Array<{ severity: string; file: string; fingerprint: string; ruleId: string }>;
    baselined: number;
    diagnostics: unknown[];
  }>;
}

const SEVERE = ['critical', 'high'];

describe('wpa analyze (in-process)', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'wpa-cli-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('JSON output lists every CI file; exit code follows --fail-on', () => {
    const result = run(['analyze', 'repo', '--format', 'json']);
    const report = JSON.parse(result.stdout) as JsonReport;
    const repository = report.repositories[0];
    expect(repository?.root).toBe('repo');
    expect(repository?.files.map((file) => file.path)).toEqual([
      '.github/actions/setup/action.yml',
      '.github/workflows/ci.yml',
      '.github/workflows/triage.yml',
    ]);
    expect(repository?.diagnostics).toEqual([]);
    const severe = repository?.findings.some((finding) => SEVERE.includes(finding.severity)) ?? false;
    expect(result.code).toBe(severe ? 1 : 0);
    expect((run(['analyze', 'repo', '--fail-on', 'none'])).code).toBe(0);
    expect((run(['analyze', 'repo', '--fail-on', 'info'])).code).toBe((repository?.findings.length ?? 0) > 0 ? 1 : 0);
  });

  test('the deliberately unsafe workflow has high-severity findings', () => {
    const result = run(['analyze', 'repo/.github/workflows/triage.yml', '--format', 'json']);
    const findings = (JSON.parse(result.stdout) as JsonReport).repositories[0]?.findings ?? [];
    expect(findings.filter((finding) => SEVERE.includes(finding.severity)).length).toBeGreaterThan(0);
    expect(result.code).toBe(1);
  });

  test('a single file path analyzes only that file of its repository', () => {
    const result = run(['analyze', join(FIXTURES, 'repo/.github/workflows/ci.yml'), '--format', 'json', '--fail-on', 'none']);
    const repository = (JSON.parse(result.stdout) as JsonReport).repositories[0];
    expect(repository?.files.map((file) => file.path)).toEqual(['.github/workflows/ci.yml']);
    expect(result.code).toBe(0);
  });

  test('a folder inside .github analyzes the files under it, paths relative to the working directory', () => {
    const result = run(['analyze', 'repo/.github/workflows', '--format', 'sarif', '--fail-on', 'none']);
    const uris = (JSON.parse(result.stdout) as { runs: Array<{ results: Array<{ locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> })
      .runs[0]?.results.map((sarifResult) => sarifResult.locations[0]?.physicalLocation.artifactLocation.uri);
    expect(uris?.length).toBeGreaterThan(0);
    expect(uris?.every((uri) => uri?.startsWith('repo/.github/workflows/'))).toBe(true);
    const json = JSON.parse(run(['analyze', 'repo/.github/workflows', '--format', 'json']).stdout) as JsonReport;
    expect(json.repositories[0]?.files.map((file) => file.path)).toEqual(['.github/workflows/ci.yml', '.github/workflows/triage.yml']);
  });

  test('a repository without CI files is clean and exits 0', () => {
    const result = run(['analyze', 'empty']);
    expect(result).toEqual({ code: 0, stdout: 'empty: 0 findings in 0 files; score 100/100\n', stderr: '' });
  });

  test('text output shows relative locations and source lines, colored only on a TTY', () => {
    const plain = run(['analyze', '--fail-on', 'none'], { cwd: join(FIXTURES, 'repo') });
    expect(plain.stdout).toMatch(/^\.github\/workflows\/triage\.yml:\d+:\d+: (critical|high|medium|low|info) [a-z0-9-]+: /m);
    expect(plain.stdout).toMatch(/^ +\d+ \| /m);
    expect(plain.stdout).toMatch(/^\.: \d+ findings? .* in 3 files; score \d+\/100$/m);
    expect(plain.stdout).not.toContain('\u001b[');
    expect((run(['analyze', '--fail-on', 'none'], { cwd: join(FIXTURES, 'repo'), tty: true })).stdout).toContain('\u001b[');
  });

  test('--min-severity and --category filter findings', () => {
    const all = (JSON.parse((run(['analyze', 'repo', '--format', 'json'])).stdout) as JsonReport).repositories[0]?.findings ?? [];
    const high = (JSON.parse((run(['analyze', 'repo', '--format', 'json', '--min-severity', 'high'])).stdout) as JsonReport)
      .repositories[0]?.findings ?? [];
    expect(high).toEqual(all.filter((finding) => SEVERE.includes(finding.severity)));
    const categories = run(['analyze', 'repo', '--format', 'json', '--category', 'security,quality', '--category', 'efficiency']);
    const securityIds = new Set(allRules.filter((rule) => ['security', 'quality', 'efficiency'].includes(rule.category)).map((rule) => rule.id));
    const filtered = (JSON.parse(categories.stdout) as JsonReport).repositories[0]?.findings ?? [];
    expect(filtered.every((finding) => securityIds.has(finding.ruleId))).toBe(true);
  });

  test('--write-baseline accepts the current findings; --baseline then reports only new ones', () => {
    const baseline = join(scratch, 'baseline.json');
    const written = run(['analyze', 'repo', '--write-baseline', baseline, '--format', 'json']);
    expect(written.code).toBe(0);
    const fingerprints = JSON.parse(readFileSync(baseline, 'utf8')) as string[];
    const later = run(['analyze', 'repo', '--baseline', baseline, '--format', 'json']);
    const repository = (JSON.parse(later.stdout) as JsonReport).repositories[0];
    expect(repository?.findings).toEqual([]);
    expect(repository?.baselined).toBe(fingerprints.length);
    expect(later.code).toBe(0);
  });

  test('--output writes the report to a file; SARIF is SARIF 2.1.0', () => {
    const output = join(scratch, 'out.sarif');
    const result = run(['analyze', 'repo', '--format', 'sarif', '--output', output, '--fail-on', 'none']);
    expect(result.stdout).toBe('');
    const log = JSON.parse(readFileSync(output, 'utf8')) as { version: string; runs: Array<{ results: Array<{ locations: unknown }> }> };
    const validate = sarifValidator();
    expect(validate(log) ? [] : validate.errors).toEqual([]);
    expect(log.runs[0]?.results.length).toBeGreaterThan(0);
    expect(JSON.stringify(log.runs[0]?.results[0]?.locations ?? 'repo/')).toContain('repo/.github/');
  });

  test.each([
    [['analyze', '--bogus'], /^wpa: Unknown option '--bogus'/],
    [['analyze', '--format', 'xml'], /^wpa: --format: must be one of "text", "json", "sarif"/],
    [['analyze', '--min-severity', 'severe'], /^wpa: --min-severity: /],
    [['analyze', '--category', 'security,speed'], /^wpa: --category: /],
    [['analyze', '--fail-on', 'sometimes'], /^wpa: --fail-on: /],
    [['analyze', 'no-such-dir'], /^wpa: no-such-dir: no such file or directory/],
    [['analyze', 'bad-config.yml'], /^wpa: bad-config\.yml: not a workflow/],
    [['analyze', 'repo', '--config', 'bad-config.yml'], /bad-config\.yml: rules\.no-such-rule: unknown rule id/],
    [['analyze', 'repo', '--baseline', 'bad-config.yml'], /bad-config\.yml: not valid JSON/],
    [['rules', '--fail-on', 'high'], /^wpa: --fail-on applies to analyze, not rules/],
    [['deploy'], /^wpa: unknown command deploy/],
    [['analyze', 'repo', '--output', 'no-such-dir/out.txt'], /^wpa: --output: cannot write: ENOENT/],
    [['analyze', 'repo', '--write-baseline', 'no-such-dir/b.json'], /^wpa: --write-baseline: cannot write: ENOENT/],
    [['analyze', '--format'], /^wpa: Option '--format <value>' argument missing/],
  ])('usage error %j exits 2 with a one-line message and no stack trace', (argv, message) => {
    const result = run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(3);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help and no arguments print usage', () => {
    const help = run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('wpa analyze [PATH...]');
    const nothing = run([]);
    expect(nothing.code).toBe(2);
    expect(nothing.stdout).toContain('Usage:');
  });
});

describe('wpa rules', () => {
  test('lists every rule as text and JSON', () => {
    const text = run(['rules']);
    expect(text.code).toBe(0);
    for (const rule of allRules) expect(text.stdout).toContain(rule.id);
    const json = JSON.parse((run(['rules', '--format', 'json', '--category', 'security'])).stdout) as Array<{ id: string; category: string }>;
    expect(json.map((rule) => rule.id).sort()).toEqual(allRules.filter((rule) => rule.category === 'security').map((rule) => rule.id).sort());
  });
});

describe('bin/wpa.js (spawned)', () => {
  let build: string;

  /** Transpiles src/ with swc (what jest uses) into <build>/dist/src, next to a copy of bin/ and package.json. */
  beforeAll(() => {
    build = mkdtempSync(join(tmpdir(), 'wpa-bin-'));
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    for (const file of walk(join(REPO_ROOT, 'src'))) {
      const target = join(build, 'dist', relative(REPO_ROOT, file));
      mkdirSync(dirname(target), { recursive: true });
      if (!file.endsWith('.ts')) {
        copyFileSync(file, target);
        continue;
      }
      const { code } = transformFileSync(file, {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
        swcrc: false,
      });
      writeFileSync(target.replace(/\.ts$/, '.js'), code);
    }
    mkdirSync(join(build, 'bin'));
    copyFileSync(join(REPO_ROOT, 'bin/wpa.js'), join(build, 'bin/wpa.js'));
    copyFileSync(join(REPO_ROOT, 'package.json'), join(build, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(build, 'node_modules'));
  });
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  test('prints the same JSON as the in-process CLI and exits with the same code', () => {
    const argv = ['analyze', 'repo', '--format', 'json'];
    const spawned = spawnSync(process.execPath, [join(build, 'bin/wpa.js'), ...argv], { cwd: FIXTURES, encoding: 'utf8' });
    const inProcess = run(argv);
    expect(spawned.stderr).toBe('');
    expect(spawned.stdout).toBe(inProcess.stdout);
    expect(spawned.status).toBe(inProcess.code);
  });

  test('a usage error exits 2 with one line', () => {
    const spawned = spawnSync(process.execPath, [join(build, 'bin/wpa.js'), 'analyze', '--nope'], { cwd: FIXTURES, encoding: 'utf8' });
    expect(spawned.status).toBe(2);
    expect(spawned.stderr).toMatch(/^wpa: Unknown option '--nope'/);
  });

  test('without a build, the launcher says to run npm run build', () => {
    const bare = mkdtempSync(join(tmpdir(), 'wpa-bare-'));
    try {
      mkdirSync(join(bare, 'bin'));
      copyFileSync(join(REPO_ROOT, 'bin/wpa.js'), join(bare, 'bin/wpa.js'));
      const spawned = spawnSync(process.execPath, [join(bare, 'bin/wpa.js'), 'rules'], { encoding: 'utf8' });
      expect(spawned.status).toBe(2);
      expect(spawned.stderr).toContain('run `npm run build`');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
