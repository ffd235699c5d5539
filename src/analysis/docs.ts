/**
 * Renders docs/rules.md from rule metadata, so the documentation cannot drift from the rules.
 * `npm run docs:rules` runs this file (compiled) and writes the result; a test fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { CATEGORIES, type Category } from '../domain/types';
import type { Rule } from './rule';
import { allRules } from './rules';

export const CATEGORY_TITLES: Readonly<Record<Category, string>> = {
  security: 'Security',
  compatibility: 'Compatibility',
  performance: 'Performance',
  efficiency: 'Efficiency',
  quality: 'Quality',
};

/** Where the rules are documented, relative to the repository root. */
export const RULES_DOC_PATH = 'docs/rules.md';

/** The anchor of a rule's section in RULES_DOC_PATH: its heading is the rule id in backticks. */
export function ruleDocAnchor(ruleId: string): string {
  return `#${ruleId}`;
}

const KIND_LABELS = { workflow: 'workflows', action: 'actions' } as const;

function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** A fenced code block whose fence is longer than any backtick run inside the code. */
function codeBlock(language: string, code: string): string {
  const longestRun = Math.max(2, ...[...code.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longestRun + 1);
  return `${fence}${language}\n${code.trimEnd()}\n${fence}`;
}

/** `safe` or `unsafe` for a rule with an automatic fix, `no` otherwise. */
function fixCell(rule: Rule): string {
  return rule.fixes?.safety ?? 'no';
}

/** Rules of a category sorted by id. */
function rulesOf(rules: readonly Rule[], category: Category): Rule[] {
  return rules.filter((rule) => rule.category === category).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Everything about one rule below its heading: facts, rationale, examples, remediation. Also the `help.markdown`
 * of the rule in SARIF output.
 */
export function ruleHelpMarkdown(rule: Rule): string {
  return [
    rule.description,
    `**Severity:** ${rule.severity} · **Confidence:** ${rule.confidence} · **Category:** ${rule.category} · ` +
      `**Applies to:** ${rule.appliesTo.map((kind) => KIND_LABELS[kind]).join(', ')}`,
    rule.rationale,
    '**Flagged:**',
    codeBlock('yaml', rule.examples.bad),
    '**Fixed:**',
    codeBlock('yaml', rule.examples.good),
    `**Remediation:** ${rule.remediation}`,
    rule.fixes
      ? `**Automatic fix (${rule.fixes.safety}):** ${rule.fixes.description} Apply it with ` +
        `\`wpa fix${rule.fixes.safety === 'unsafe' ? ' --unsafe-fixes' : ''}\`.`
      : '**Automatic fix:** none.',
    `Suppress one finding with \`# wpa: ignore[${rule.id}]\` on its line or the line above.`,
  ].join('\n\n');
}

export function renderRulesDoc(rules: readonly Rule[] = allRules): string {
  const sections: string[] = [
    '# Analyzer rules',
    '<!-- Generated from the rule metadata in src/analysis/rules/ by `npm run docs:rules`; do not edit by hand. -->',
    `The analyzer has ${rules.length} rules in ${CATEGORIES.length} categories. Configure them per repository in ` +
      '`.github/wpa.yml` (`rules: { <rule-id>: { enabled: false } }` or `{ severity: low }`), and suppress a single ' +
      'finding with a `# wpa: ignore[<rule-id>]` comment on its line or the line above. Rules with an automatic fix ' +
      '(column Fix) are fixed by `wpa fix`: safe fixes keep what the workflow does, unsafe ones (`--unsafe-fixes`) ' +
      'may change it and need a reader.',
    '## Index',
  ];
  for (const category of CATEGORIES) {
    const categoryRules = rulesOf(rules, category);
    if (categoryRules.length === 0) continue;
    sections.push(
      [
        `**${CATEGORY_TITLES[category]}** (${categoryRules.length})`,
        '',
        '| Rule | Severity | Confidence | Fix | Description |',
        '| --- | --- | --- | --- | --- |',
        ...categoryRules.map(
          (rule) => `| [\`${rule.id}\`](${ruleDocAnchor(rule.id)}) | ${rule.severity} | ${rule.confidence} | ${fixCell(rule)} | ${tableCell(rule.description)} |`,
        ),
      ].join('\n'),
    );
  }
  for (const category of CATEGORIES) {
    const categoryRules = rulesOf(rules, category);
    if (categoryRules.length === 0) continue;
    sections.push(`## ${CATEGORY_TITLES[category]}`);
    for (const rule of categoryRules) sections.push(`### \`${rule.id}\``, ruleHelpMarkdown(rule));
  }
  return `${sections.join('\n\n')}\n`;
}

if (require.main === module) {
  // npm scripts run in the package root, so the default path is the repository's docs/rules.md.
  const target = process.argv[2] ?? 'docs/rules.md';
  writeFileSync(target, renderRulesDoc());
  process.stdout.write(`wrote ${target} (${allRules.length} rules)\n`);
}
