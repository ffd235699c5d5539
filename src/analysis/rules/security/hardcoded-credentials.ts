import { isNode, type Node, type Scalar, visit } from 'yaml';
import { jobsOf, mapEntries, mapGet, type Rule, type RuleContext, scalarText, stepsOf } from '../../rule';
import { findSecretLiterals } from '../../../security/secret-patterns';
import { containersOf, hasExpression } from '../../security-sites';

/** `with:` inputs that carry a credential: `password`, `github-token`, `api_key`, `client-secret`... */
const credentialInputName = /(?:^|[-_])(?:password|passwd|token|api[-_]?key|secret|secret[-_]key|access[-_]key|private[-_]key)$/i;
/** Values of such inputs that name a file holding the credential rather than the credential itself. */
const filePathValue = /^(?:\.{0,2}\/|~\/)|\.(?:json|pem|key|txt|ya?ml|p12|pfx|asc|gpg|env)$/i;

export const hardcodedCredentialsRule: Rule = {
  id: 'hardcoded-credentials',
  category: 'security',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Passwords, tokens and keys written literally into a workflow or action instead of coming from secrets.',
  rationale:
    'Everything in a workflow file is readable by anyone who can read the repository, is kept forever in its git ' +
    'history and in every fork, and is not masked in logs. A credential written there must be considered leaked. ' +
    'The rule reports literal container and service registry passwords, recognizable token formats anywhere in ' +
    'the file (GitHub, npm, PyPI, AWS, Slack, private keys and others), and credential-named action inputs (such as ' +
    '`password` or `api-key`) whose literal value looks generated. Throw-away passwords for test databases in `env:` ' +
    'are not reported. Messages never repeat the secret.',
  remediation:
    'Revoke the credential, store a new one as an encrypted secret and reference it with `${{ secrets.NAME }}`. ' +
    'Removing it from the file does not remove it from the git history.',
  examples: {
    bad: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    container:',
      '      image: ghcr.io/acme/build:1.4.2',
      '      credentials:',
      '        username: acme-ci',
      '        password: hunter2-but-longer',
      '    steps:',
      '      - run: make',
      '',
    ].join('\n'),
    good: [
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    container:',
      '      image: ghcr.io/acme/build:1.4.2',
      '      credentials:',
      '        username: acme-ci',
      '        password: ${{ secrets.GHCR_PASSWORD }}',
      '    steps:',
      '      - run: make',
      '',
    ].join('\n'),
  },
  check(ctx) {
    const reported = new Set<Node>();
    reportTokenFormats(ctx, reported);
    for (const job of jobsOf(ctx.file)) {
      for (const site of containersOf(job)) {
        const password = mapGet(mapGet(site.node, 'credentials'), 'password');
        const text = scalarText(password);
        if (!password || reported.has(password) || !text || hasExpression(text)) continue;
        const where = site.kind === 'container' ? `job \`${job.id}\` container` : `service \`${site.name}\` of job \`${job.id}\``;
        ctx.report({ node: password, message: `${where} has a literal registry password (${text.length} characters) instead of a secret` });
      }
    }
    for (const step of stepsOf(ctx.file)) {
      for (const { key, value } of mapEntries(mapGet(step.node, 'with'))) {
        const text = scalarText(value)?.trim();
        if (!value || reported.has(value) || !credentialInputName.test(key) || !text || !looksGenerated(text)) continue;
        ctx.report({
          node: value,
          message: `input \`${key}\` is given a literal value (${text.length} characters) that looks like a credential instead of a secret`,
          confidence: 'medium',
        });
      }
    }
  },
};

/** Every recognizable token in the file text, comments included, pointed at the scalar that holds it. */
function reportTokenFormats(ctx: RuleContext, reported: Set<Node>): void {
  const literals = findSecretLiterals(ctx.file.text);
  if (literals.length === 0) return;
  const scalars: Scalar[] = [];
  visit(ctx.file.doc, {
    Scalar(_key, node) {
      scalars.push(node);
    },
  });
  const root = ctx.file.doc.contents;
  for (const literal of literals) {
    const holder = scalars.find((scalar) => scalar.range !== undefined && scalar.range !== null && scalar.range[0] <= literal.start && literal.start < scalar.range[1]);
    const node = holder ?? (isNode(root) ? root : undefined);
    if (!node) continue;
    const from = ctx.file.lineCounter.linePos(literal.start);
    const to = ctx.file.lineCounter.linePos(literal.end);
    reported.add(node);
    ctx.report({
      node,
      range: { line: from.line, column: from.col, endLine: to.line, endColumn: to.col },
      message: `${literal.description} \`${literal.masked}\` is written literally ${holder ? 'in the file' : 'in a comment'}`,
    });
  }
}

/** A literal that is plausibly a generated credential: long, no spaces, mixed letters and digits, varied. */
function looksGenerated(text: string): boolean {
  if (hasExpression(text) || filePathValue.test(text) || /\s/.test(text) || text.length < 16) return false;
  if (!/[A-Za-z]/.test(text) || !/\d/.test(text)) return false;
  return new Set(text).size >= 10;
}
