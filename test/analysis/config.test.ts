import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_CONFIG, findConfigFile, loadConfig, parseConfig } from '../../src/analysis/config';

const KNOWN = new Set(['unpinned-action', 'job-timeout']);

describe('parseConfig', () => {
  test('accepts rule settings, ignore globs and first-party owners', () => {
    const config = parseConfig(
      'rules:\n  unpinned-action: { severity: low }\n  job-timeout:\n    enabled: false\nignore: ["legacy/**"]\nfirstPartyOwners: [my-org]\n',
      'wpa.yml',
      KNOWN,
    );
    expect(config).toEqual({
      rules: { 'unpinned-action': { severity: 'low' }, 'job-timeout': { enabled: false } },
      ignore: ['legacy/**'],
      firstPartyOwners: ['my-org'],
      source: 'wpa.yml',
    });
  });

  test('an empty file is the default configuration', () => {
    expect(parseConfig('', 'wpa.yml', KNOWN)).toEqual({ ...DEFAULT_CONFIG, source: 'wpa.yml' });
  });

  test.each([
    ['rules:\n  unpinned-action: { severity: urgent }\n', /^wpa\.yml: rules\.unpinned-action\.severity: must be one of "critical", "high"/],
    ['rules:\n  unpinned-action: { enable: false }\n', /^wpa\.yml: rules\.unpinned-action: has a field that is not known: "enable"$/],
    ['rules:\n  unpinned-actions: { enabled: false }\n', /^wpa\.yml: rules\.unpinned-actions: unknown rule id/],
    ['ignore: legacy/**\n', /^wpa\.yml: ignore: must be a list, not text/],
    ['firstPartyOwners: [""]\n', /^wpa\.yml: firstPartyOwners\.0: /],
    ['ruels: {}\n', /^wpa\.yml: \(top level\): has a field that is not known: "ruels"$/],
    ['rules: [\n', /^wpa\.yml: not valid YAML/],
    ['- a\n', /^wpa\.yml: \(top level\): must be an object, not a list/],
  ])('rejects %j with a message naming the key', (text, message) => {
    expect(() => parseConfig(text, 'wpa.yml', KNOWN)).toThrow(ConfigError);
    expect(() => parseConfig(text, 'wpa.yml', KNOWN)).toThrow(message);
  });
});

describe('loadConfig', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'wpa-config-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('prefers .github/wpa.yml over wpa.yml and falls back to the default', () => {
    expect(loadConfig(root, KNOWN)).toBe(DEFAULT_CONFIG);
    writeFileSync(join(root, 'wpa.yml'), 'ignore: [a]\n');
    expect(loadConfig(root, KNOWN).ignore).toEqual(['a']);
    mkdirSync(join(root, '.github'));
    writeFileSync(join(root, '.github/wpa.yml'), 'ignore: [b]\n');
    expect(findConfigFile(root)).toBe(join(root, '.github/wpa.yml'));
    expect(loadConfig(root, KNOWN).ignore).toEqual(['b']);
  });

  test('an explicit path wins and a missing explicit file is an error', () => {
    writeFileSync(join(root, 'custom.yml'), 'ignore: [c]\n');
    expect(loadConfig(root, KNOWN, join(root, 'custom.yml')).ignore).toEqual(['c']);
    expect(() => loadConfig(root, KNOWN, join(root, 'missing.yml'))).toThrow(/missing\.yml: cannot read configuration: ENOENT/);
  });
});
