/**
 * Repository configuration for the analyzer: `.github/wpa.yml` (or `wpa.yml` at the repository root).
 *
 *   rules:
 *     missing-job-timeout: { enabled: false }
 *     unpinned-action: { severity: low }
 *   ignore: ['.github/workflows/legacy-*.yml']
 *   firstPartyOwners: [actions, github, my-org]   # replaces the default list, so keep GitHub's own orgs
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import '../util/validation-messages';
import { SEVERITIES } from '../domain/types';

/** Where the configuration is looked up, relative to the repository root, first match wins. */
export const CONFIG_FILE_NAMES = ['.github/wpa.yml', '.github/wpa.yaml', 'wpa.yml', 'wpa.yaml'] as const;

const ruleSettingSchema = z.strictObject({
  enabled: z.boolean().optional(),
  severity: z.enum(SEVERITIES).optional(),
});

const configSchema = z.strictObject({
  rules: z.record(z.string(), ruleSettingSchema).optional(),
  ignore: z.array(z.string().min(1)).optional(),
  firstPartyOwners: z.array(z.string().min(1)).optional(),
});

export type RuleSetting = z.infer<typeof ruleSettingSchema>;

export interface AnalyzerConfig {
  /** Per rule id: disable it or override its severity. */
  rules: Readonly<Record<string, RuleSetting>>;
  /** picomatch globs of repository-relative paths whose findings are not reported. */
  ignore: readonly string[];
  /** Owners whose actions count as first-party, replacing the default list; undefined keeps the default. */
  firstPartyOwners?: readonly string[];
  /** Path of the file the configuration came from, for messages; undefined for the built-in default. */
  source?: string;
}

export const DEFAULT_CONFIG: AnalyzerConfig = { rules: {}, ignore: [] };

/** A configuration file that cannot be used; the message names the file and the offending key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function keyPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/**
 * Validates configuration text. `knownRuleIds` makes a misspelled rule id an error instead of a silently ignored
 * setting.
 */
export function parseConfig(text: string, source: string, knownRuleIds: ReadonlySet<string>): AnalyzerConfig {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    throw new ConfigError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  // An empty file is a valid, empty configuration.
  const parsed = configSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${source}: ${keyPath(issue?.path ?? [])}: ${issue?.message ?? 'is not valid'}`);
  }
  const rules = parsed.data.rules ?? {};
  for (const ruleId of Object.keys(rules)) {
    if (!knownRuleIds.has(ruleId)) throw new ConfigError(`${source}: rules.${ruleId}: unknown rule id (see \`wpa rules\`)`);
  }
  return {
    rules,
    ignore: parsed.data.ignore ?? [],
    ...(parsed.data.firstPartyOwners ? { firstPartyOwners: parsed.data.firstPartyOwners } : {}),
    source,
  };
}

/** The configuration file of a repository checkout, or undefined when it has none. */
export function findConfigFile(root: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => join(root, name)).find((path) => existsSync(path));
}

/** Loads `explicitPath` when given, else the repository's own configuration file, else the default. */
export function loadConfig(root: string, knownRuleIds: ReadonlySet<string>, explicitPath?: string): AnalyzerConfig {
  const path = explicitPath ?? findConfigFile(root);
  if (path === undefined) return DEFAULT_CONFIG;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read configuration: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseConfig(text, path, knownRuleIds);
}
