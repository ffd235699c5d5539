/**
 * Small real rules for engine tests, independent of the analyzer's rule set (which other tests cover).
 */
import { findInNodeSource, mapGet, scalarText, stepsOf, type Rule } from '../../src/analysis/rule';

const metadata = {
  confidence: 'high',
  description: 'test rule',
  rationale: 'test rationale',
  remediation: 'test remediation',
  examples: { bad: '', good: '' },
} as const;

/** Reports every step's `uses:` value. */
export const usesRule: Rule = {
  ...metadata,
  id: 'test-uses',
  category: 'security',
  severity: 'medium',
  appliesTo: ['workflow', 'action'],
  check(ctx) {
    for (const step of stepsOf(ctx.file)) {
      const uses = mapGet(step.node, 'uses');
      if (uses) ctx.report({ node: uses, message: `step uses ${scalarText(uses) ?? '?'}` });
    }
  },
};

/** Reports every `${{` inside `run:` scripts with a narrowed range, high severity. */
export const expressionRule: Rule = {
  ...metadata,
  id: 'test-expression',
  category: 'quality',
  severity: 'low',
  appliesTo: ['workflow'],
  check(ctx) {
    for (const step of stepsOf(ctx.file)) {
      const run = mapGet(step.node, 'run');
      if (!run) continue;
      for (const range of findInNodeSource(ctx.file, run, '${{')) {
        ctx.report({ node: run, range, message: 'expression in script', severity: 'high' });
      }
    }
  },
};

/** Stands in for the analyzer's yaml-syntax rule: reports the first parse error. */
export const syntaxRule: Rule = {
  ...metadata,
  id: 'yaml-syntax',
  category: 'compatibility',
  severity: 'high',
  appliesTo: ['workflow', 'action'],
  check(ctx) {
    const error = ctx.file.doc.errors[0];
    if (!error) return;
    const at = ctx.file.lineCounter.linePos(error.pos[0]);
    ctx.report({ message: error.code, range: { line: at.line, column: at.col, endLine: at.line, endColumn: at.col + 1 } });
  },
};

/** Always throws, like a rule with a bug. */
export const throwingRule: Rule = {
  ...metadata,
  id: 'test-throws',
  category: 'efficiency',
  severity: 'info',
  appliesTo: ['workflow'],
  check() {
    throw new Error('boom');
  },
};
