import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRulesDoc, ruleHelpMarkdown } from '../../src/analysis/docs';
import type { Rule } from '../../src/analysis/rule';
import { allRules } from '../../src/analysis/rules';

const RULES_DOC = join(__dirname, '../../docs/rules.md');

const sample: Rule = {
  id: 'sample-rule',
  category: 'quality',
  severity: 'low',
  confidence: 'medium',
  appliesTo: ['workflow', 'action'],
  description: 'Detects a | pipe.',
  rationale: 'Because.',
  remediation: 'Do better.',
  examples: { bad: 'run: echo ```\n', good: 'run: echo ok\n' },
  check() {},
};

describe('rule docs', () => {
  test('docs/rules.md is up to date (run `npm run docs:rules` after changing rule metadata)', () => {
    let current = '';
    try {
      current = readFileSync(RULES_DOC, 'utf8');
    } catch {
      // Missing file: reported by the comparison below.
    }
    expect(current).toBe(renderRulesDoc(allRules));
  });

  test('renders an index row and a section with facts, examples and remediation per rule', () => {
    const doc = renderRulesDoc([sample]);
    expect(doc).toContain('| [`sample-rule`](#sample-rule) | low | medium | no | Detects a \\| pipe. |');
    expect(doc).toContain('## Quality\n\n### `sample-rule`\n\nDetects a | pipe.');
    expect(doc).not.toContain('## Security');
    const help = ruleHelpMarkdown(sample);
    expect(help).toContain('**Applies to:** workflows, actions');
    expect(help).toContain('````yaml\nrun: echo ```\n````');
    expect(help).toContain('**Remediation:** Do better.');
    expect(help).toContain('# wpa: ignore[sample-rule]');
    expect(help).toContain('**Automatic fix:** none.');
  });

  test('says whether a rule has an automatic fix and how safe it is', () => {
    const fixable: Rule = { ...sample, fixes: { safety: 'unsafe', description: 'Adds a thing.' } };
    expect(renderRulesDoc([fixable])).toContain('| [`sample-rule`](#sample-rule) | low | medium | unsafe | Detects a \\| pipe. |');
    expect(ruleHelpMarkdown(fixable)).toContain('**Automatic fix (unsafe):** Adds a thing. Apply it with `wpa fix --unsafe-fixes`.');
  });
});
