/**
 * Checks every rule's registration and metadata: one rule per file named after its id, registered exactly once,
 * examples that behave as documented, and the minimum number of rules per category.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CATEGORIES, type Category } from '../../../src/domain/types';
import { repositoryFromFiles } from '../../../src/analysis/discover';
import { analyzeRepository, YAML_SYNTAX_RULE_ID } from '../../../src/analysis/engine';
import { parseWorkflowFile } from '../../../src/analysis/parse';
import { mapGet, rootMap, type Rule } from '../../../src/analysis/rule';
import { allRules } from '../../../src/analysis/rules';

const RULES_DIR = join(__dirname, '../../../src/analysis/rules');

/** Examples run in a repository that has the lockfiles of common package managers (for cache rules). */
const EXAMPLE_REPO_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'poetry.lock', 'Pipfile.lock', 'requirements.txt', 'go.sum', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'gradle.lockfile'];

const MINIMUM_PER_CATEGORY: Record<Category, number> = { security: 12, compatibility: 6, performance: 4, efficiency: 4, quality: 4 };

function isRule(value: unknown): value is Rule {
  const candidate = value as Partial<Rule> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.id === 'string' && typeof candidate.check === 'function';
}

/** Rule files: the .ts files directly in a category folder, except index.ts (sub-folders hold shared helpers). */
const ruleFiles = CATEGORIES.flatMap((category) =>
  readdirSync(join(RULES_DIR, category), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && entry.name !== 'index.ts')
    .map((entry) => ({ category, path: join(RULES_DIR, category, entry.name), id: basename(entry.name, '.ts') })),
);

function camelCase(id: string): string {
  return id.replace(/-([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Where an example is analyzed: an action when the rule reads only actions or the example looks like one. */
function examplePath(rule: Rule, yamlText: string): string {
  const looksLikeAction = (() => {
    const root = rootMap(parseWorkflowFile('x.yml', yamlText, 'action'));
    return mapGet(root, 'runs') !== undefined && mapGet(root, 'jobs') === undefined;
  })();
  const asAction = !rule.appliesTo.includes('workflow') || (rule.appliesTo.includes('action') && looksLikeAction);
  return asAction ? '.github/actions/example/action.yml' : '.github/workflows/example.yml';
}

function findingsOf(rule: Rule, yamlText: string): string[] {
  const path = examplePath(rule, yamlText);
  const view = repositoryFromFiles(new Map([[path, yamlText]]), { existingPaths: EXAMPLE_REPO_FILES });
  return analyzeRepository(view, { rules: [rule], ruleErrors: 'throw' }).findings.map((finding) => `${finding.line}:${finding.column} ${finding.message}`);
}

describe('rule registry', () => {
  test('ids are unique kebab-case', () => {
    const ids = allRules.map((rule) => rule.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  test.each(ruleFiles)('$category/$id.ts exports exactly one rule, named after the file and registered', ({ category, path, id }) => {
    const exported = Object.entries(jest.requireActual<Record<string, unknown>>(path)).filter(([, value]) => isRule(value));
    expect(exported.map(([name]) => name)).toEqual([`${camelCase(id)}Rule`]);
    const rule = exported[0]?.[1] as Rule;
    expect(rule.id).toBe(id);
    expect(rule.category).toBe(category);
    expect(allRules.filter((registered) => registered === rule)).toHaveLength(1);
  });

  test('the rule the engine runs alone on unparsable files exists', () => {
    expect(allRules.find((rule) => rule.id === YAML_SYNTAX_RULE_ID)?.appliesTo).toEqual(expect.arrayContaining(['workflow', 'action']));
  });

  test('every registered rule comes from its own file', () => {
    const fileIds = new Set(ruleFiles.map((file) => `${file.category}/${file.id}`));
    expect(allRules.map((rule) => `${rule.category}/${rule.id}`).filter((key) => !fileIds.has(key))).toEqual([]);
  });

  test.each(CATEGORIES)('category %s has enough rules', (category) => {
    expect(allRules.filter((rule) => rule.category === category).length).toBeGreaterThanOrEqual(MINIMUM_PER_CATEGORY[category]);
  });
});

describe.each(allRules.map((rule) => [rule.id, rule] as const))('rule %s', (_id, rule) => {
  test('has complete user-facing metadata', () => {
    for (const text of [rule.description, rule.rationale, rule.remediation, rule.examples.bad, rule.examples.good]) {
      expect(text.trim().length).toBeGreaterThan(0);
    }
    expect(rule.appliesTo.length).toBeGreaterThan(0);
  });

  test('examples.bad fires', () => {
    expect(findingsOf(rule, rule.examples.bad).length).toBeGreaterThan(0);
  });

  test('examples.good does not fire', () => {
    expect(findingsOf(rule, rule.examples.good)).toEqual([]);
  });
});
