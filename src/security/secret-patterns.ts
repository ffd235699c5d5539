/**
 * Recognizers for credentials written literally into text: the analyzer's hardcoded-credentials rule scans workflow
 * values with them and the patch safety checks scan added diff lines, so both agree on what a leaked secret is.
 * Only formats with a distinctive prefix or context are listed: a bare 40-character string is not evidence of a
 * secret, and precision matters more than recall here. Token formats as documented by their vendors, from
 * knowledge (not fetched); reviewed on the date below.
 */
export const reviewed = '2026-11-24';

export interface SecretPattern {
  id: string;
  /** What the secret is, for messages ("GitHub personal access token"). */
  description: string;
  /**
   * Global regex with match indices (`gd`); when it has a capture group, group 1 is the secret itself and the rest is context that must
   * surround it (e.g. the `AccountKey=` of a connection string).
   */
  regex: RegExp;
  /** How many leading characters of the secret are a public, fixed prefix that may be shown when masking. */
  visiblePrefix: number;
  /** Whether a placeholder-looking body (`ghp_xxxx…`, `…EXAMPLE`) is skipped; off for the private-key header. */
  skipPlaceholders: boolean;
}

export interface SecretLiteral {
  patternId: string;
  description: string;
  /** Offset of the secret's first character in the scanned text. */
  start: number;
  /** Offset just past the secret's last character. */
  end: number;
  /** The secret with everything but its public prefix hidden: safe to print in messages and logs. */
  masked: string;
}

// Token characters around a match: a secret embedded in a longer identifier is something else.
const before = '(?<![A-Za-z0-9_-])';
const after = '(?![A-Za-z0-9_-])';

function token(body: string): RegExp {
  return new RegExp(`${before}${body}${after}`, 'gd');
}

export const secretPatterns: readonly SecretPattern[] = [
  { id: 'github-token', description: 'GitHub token', regex: token('gh[pousr]_[A-Za-z0-9]{36}'), visiblePrefix: 4, skipPlaceholders: true },
  {
    id: 'github-fine-grained-token',
    description: 'GitHub fine-grained personal access token',
    regex: token('github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}'),
    visiblePrefix: 11,
    skipPlaceholders: true,
  },
  { id: 'slack-token', description: 'Slack token', regex: token('xox[abposr]-[A-Za-z0-9-]{10,}'), visiblePrefix: 5, skipPlaceholders: true },
  {
    id: 'slack-webhook',
    description: 'Slack incoming-webhook URL',
    regex: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{20,}/gd,
    visiblePrefix: 'https://hooks.slack.com/services/'.length,
    skipPlaceholders: true,
  },
  { id: 'aws-access-key-id', description: 'AWS access key ID', regex: token('(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}'), visiblePrefix: 4, skipPlaceholders: true },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    regex: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gid,
    visiblePrefix: 0,
    skipPlaceholders: true,
  },
  {
    id: 'private-key',
    description: 'private key',
    // The header alone is also used in scripts that assemble a key from a secret; require key material after it.
    regex: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?=(?:\s|\\n|[A-Za-z-]+: [^\n]*\n)*[A-Za-z0-9+/]{40})/gd,
    visiblePrefix: Number.MAX_SAFE_INTEGER,
    skipPlaceholders: false,
  },
  { id: 'npm-token', description: 'npm access token', regex: token('npm_[A-Za-z0-9]{36}'), visiblePrefix: 4, skipPlaceholders: true },
  { id: 'pypi-token', description: 'PyPI API token', regex: token('pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}'), visiblePrefix: 5, skipPlaceholders: true },
  { id: 'gitlab-token', description: 'GitLab personal access token', regex: token('glpat-[A-Za-z0-9_-]{20,}'), visiblePrefix: 6, skipPlaceholders: true },
  { id: 'google-api-key', description: 'Google API key', regex: token('AIza[0-9A-Za-z_-]{35}'), visiblePrefix: 4, skipPlaceholders: true },
  { id: 'stripe-live-key', description: 'Stripe live secret key', regex: token('[sr]k_live_[0-9A-Za-z]{24,}'), visiblePrefix: 8, skipPlaceholders: true },
  {
    id: 'openai-key',
    description: 'OpenAI API key',
    regex: token('sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})'),
    visiblePrefix: 3,
    skipPlaceholders: true,
  },
  { id: 'anthropic-key', description: 'Anthropic API key', regex: token('sk-ant-(?:api|admin)\\d{2}-[A-Za-z0-9_-]{80,}'), visiblePrefix: 7, skipPlaceholders: true },
  { id: 'docker-hub-token', description: 'Docker Hub access token', regex: token('dckr_pat_[A-Za-z0-9_-]{27}'), visiblePrefix: 9, skipPlaceholders: true },
  { id: 'huggingface-token', description: 'Hugging Face token', regex: token('hf_[A-Za-z]{34}'), visiblePrefix: 3, skipPlaceholders: true },
  { id: 'sendgrid-key', description: 'SendGrid API key', regex: token('SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}'), visiblePrefix: 3, skipPlaceholders: true },
  {
    id: 'azure-storage-key',
    description: 'Azure storage account key',
    regex: /AccountKey=([A-Za-z0-9+/]{86}==)/gd,
    visiblePrefix: 0,
    skipPlaceholders: true,
  },
];

/** Documentation placeholders and redactions: repeated filler, `EXAMPLE` markers, too few distinct characters. */
function isPlaceholder(body: string): boolean {
  if (/EXAMPLE|x{6}|X{6}|\*{3}|\.{3}|0{8}|1234567890/.test(body)) return true;
  return new Set(body).size < 8;
}

/** Hides all but the public prefix of a secret. */
export function maskSecret(secret: string, visiblePrefix: number): string {
  const shown = secret.slice(0, Math.min(visiblePrefix, secret.length));
  return shown.length === secret.length ? shown : `${shown}****`;
}

/** Every recognized secret in `text`, in offset order; of overlapping matches only the first (longest) is kept. */
export function findSecretLiterals(text: string): SecretLiteral[] {
  const found: SecretLiteral[] = [];
  for (const pattern of secretPatterns) {
    for (const match of text.matchAll(pattern.regex)) {
      const span = match.indices?.[1] ?? match.indices?.[0];
      if (!span) continue;
      const [start, end] = span;
      const secret = text.slice(start, end);
      if (pattern.skipPlaceholders && isPlaceholder(secret.slice(pattern.visiblePrefix))) continue;
      found.push({ patternId: pattern.id, description: pattern.description, start, end, masked: maskSecret(secret, pattern.visiblePrefix) });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: SecretLiteral[] = [];
  let keptEnd = 0;
  for (const literal of found) {
    if (literal.start < keptEnd) continue;
    kept.push(literal);
    keptEnd = literal.end;
  }
  return kept;
}
