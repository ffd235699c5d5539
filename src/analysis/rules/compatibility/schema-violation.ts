/**
 * Schema validation against GitHub's workflow schema. How the schema is loaded (read from
 * @actions/workflow-parser's bundled JSON and walked synchronously, instead of importing the ESM-only package)
 * is explained in src/analysis/schema/workflow-schema.ts.
 */
import type { Rule } from '../../rule';
import { validateWorkflowSchema } from '../../schema/workflow-schema';

export const schemaViolationRule: Rule = {
  id: 'schema-violation',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow'],
  description:
    "Validates workflow files against GitHub's workflow schema: unknown or misspelled keys, missing required keys, " +
    'values of the wrong type and expressions where GitHub does not allow them.',
  rationale:
    'GitHub validates a workflow file before it runs anything. A misspelled key (`branch:` instead of `branches:`), ' +
    'a missing `runs-on`, `timeout-minutes: ten` or a permission scope that does not exist makes the whole file ' +
    'invalid: no job runs, and the only trace is an "Invalid workflow file" entry in the Actions tab that is easy to ' +
    "miss. The check uses the schema GitHub's own language service validates with.",
  remediation: 'Fix the key or value at the reported position; the message names what GitHub expects there.',
  examples: {
    bad: [
      'name: CI',
      'on:',
      '  push:',
      '    branch: [main]',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
    good: [
      'name: CI',
      'on:',
      '  push:',
      '    branches: [main]',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: make test',
      '',
    ].join('\n'),
  },
  check(ctx) {
    if (ctx.file.doc.contents === null) {
      ctx.report({
        message: 'The workflow file is empty: GitHub cannot load it and lists it as an invalid workflow.',
        remediation: 'Delete the file or give it `on:` triggers and `jobs:`.',
        range: { line: 1, column: 1, endLine: 1, endColumn: 1 },
      });
      return;
    }
    for (const violation of validateWorkflowSchema(ctx.file)) ctx.report({ node: violation.node, message: violation.message });
  },
};
