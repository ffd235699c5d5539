/**
 * Which `GITHUB_TOKEN` permissions popular actions need, and which shell commands use the token in ways a table
 * cannot bound. Read by missing-permissions to write a least-privilege `permissions:` block. Facts as of the
 * reviewed date, from the "Permissions" / "Usage" sections of each action's README and its action.yml (reviewer's
 * knowledge, not fetched). An action missing here is unknown, never "needs nothing": the fix then makes no edit.
 */
export const reviewed = '2026-12-01';

export type PermissionLevel = 'read' | 'write';

/** The scopes of a workflow's `permissions:` map (`metadata: read` is always granted and never written). */
export type PermissionScope =
  | 'actions'
  | 'attestations'
  | 'checks'
  | 'contents'
  | 'deployments'
  | 'discussions'
  | 'id-token'
  | 'issues'
  | 'packages'
  | 'pages'
  | 'pull-requests'
  | 'security-events'
  | 'statuses';

export type Permissions = Readonly<Partial<Record<PermissionScope, PermissionLevel>>>;

/**
 * A condition on a step's `with:` inputs: `true` = the input is set, `false` = it is not, a pattern = its literal
 * text matches. All entries must hold.
 */
export type InputCondition = Readonly<Record<string, boolean | RegExp>>;

export interface ActionPermissionNeeds {
  /** Lower-case `owner/repo` (covers its sub-actions, e.g. `github/codeql-action/init`) or `owner/repo/path`. */
  action: string;
  /** What the action needs in its default configuration; `{}` when it never uses the job token. */
  needs: Permissions;
  /** Further needs when inputs switch on a feature that uses the token (OIDC login, PR comments...). */
  extra?: ReadonlyArray<{ when: InputCondition; needs: Permissions }>;
}

/** Actions whose token use depends on code or configuration the workflow supplies: no table can bound them. */
export const unboundedActions: ReadonlyMap<string, string> = new Map([
  ['actions/github-script', 'its script may call any API'],
  ['octokit/request-action', 'the request it sends is configured per step'],
  ['octokit/graphql-action', 'the query it sends is configured per step'],
]);

const none: Permissions = {};
const githubToken = /GITHUB_TOKEN|github\.token/;

export const actionPermissionNeeds: readonly ActionPermissionNeeds[] = [
  // GitHub's own actions.
  { action: 'actions/checkout', needs: { contents: 'read' } },
  // Caches and artifacts travel with the runtime token (ACTIONS_RUNTIME_TOKEN), not with GITHUB_TOKEN.
  { action: 'actions/cache', needs: none },
  { action: 'actions/upload-artifact', needs: none },
  // Downloading from another run goes through the REST API with the token.
  { action: 'actions/download-artifact', needs: none, extra: [{ when: { 'run-id': true }, needs: { actions: 'read' } }] },
  { action: 'actions/setup-node', needs: none },
  { action: 'actions/setup-python', needs: none },
  { action: 'actions/setup-java', needs: none },
  { action: 'actions/setup-go', needs: none },
  { action: 'actions/setup-dotnet', needs: none },
  { action: 'actions/create-github-app-token', needs: none },
  { action: 'actions/upload-pages-artifact', needs: none },
  // Reading the site settings needs `pages: read`; creating the site (`enablement: true`) needs write.
  { action: 'actions/configure-pages', needs: { pages: 'read' }, extra: [{ when: { enablement: true }, needs: { pages: 'write' } }] },
  { action: 'actions/deploy-pages', needs: { pages: 'write', 'id-token': 'write' } },
  { action: 'actions/attest-build-provenance', needs: { 'id-token': 'write', attestations: 'write', contents: 'read' } },
  { action: 'actions/attest', needs: { 'id-token': 'write', attestations: 'write', contents: 'read' } },
  { action: 'actions/labeler', needs: { contents: 'read', 'pull-requests': 'write' } },
  { action: 'actions/first-interaction', needs: { issues: 'write', 'pull-requests': 'write' } },
  // v9 deletes its own state cache through the API; branches go only with `delete-branch`.
  {
    action: 'actions/stale',
    needs: { actions: 'write', issues: 'write', 'pull-requests': 'write' },
    extra: [{ when: { 'delete-branch': true }, needs: { contents: 'write' } }],
  },
  {
    action: 'actions/dependency-review-action',
    needs: { contents: 'read' },
    extra: [{ when: { 'comment-summary-in-pr': true }, needs: { 'pull-requests': 'write' } }],
  },
  { action: 'actions/create-release', needs: { contents: 'write' } },
  { action: 'actions/upload-release-asset', needs: { contents: 'write' } },
  // All CodeQL sub-actions; `actions: read` lets analyze read the run's workflow in private repositories.
  { action: 'github/codeql-action', needs: { 'security-events': 'write', actions: 'read', contents: 'read' } },
  { action: 'ossf/scorecard-action', needs: { 'security-events': 'write', 'id-token': 'write', contents: 'read', actions: 'read' } },
  { action: 'super-linter/super-linter', needs: { contents: 'read', packages: 'read', statuses: 'write' } },
  { action: 'github/super-linter', needs: { contents: 'read', packages: 'read', statuses: 'write' } },

  // Releases, pull requests and pushes.
  { action: 'peter-evans/create-pull-request', needs: { contents: 'write', 'pull-requests': 'write' } },
  { action: 'softprops/action-gh-release', needs: { contents: 'write' } },
  { action: 'ncipollo/release-action', needs: { contents: 'write' } },
  { action: 'svenstaro/upload-release-action', needs: { contents: 'write' } },
  { action: 'goreleaser/goreleaser-action', needs: { contents: 'write' } },
  { action: 'googleapis/release-please-action', needs: { contents: 'write', 'pull-requests': 'write' } },
  { action: 'changesets/action', needs: { contents: 'write', 'pull-requests': 'write' } },
  { action: 'stefanzweifel/git-auto-commit-action', needs: { contents: 'write' } },
  { action: 'endbug/add-and-commit', needs: { contents: 'write' } },
  { action: 'jamesives/github-pages-deploy-action', needs: { contents: 'write' } },
  // With `deploy_key` it pushes with that key instead of the token.
  { action: 'peaceiris/actions-gh-pages', needs: none, extra: [{ when: { github_token: true }, needs: { contents: 'write' } }] },
  { action: 'marocchino/sticky-pull-request-comment', needs: { 'pull-requests': 'write' } },
  { action: 'thollander/actions-comment-pull-request', needs: { 'pull-requests': 'write' } },
  { action: 'dorny/paths-filter', needs: { contents: 'read', 'pull-requests': 'read' } },
  { action: 'tj-actions/changed-files', needs: { contents: 'read', 'pull-requests': 'read' } },
  {
    action: 'golangci/golangci-lint-action',
    needs: { contents: 'read' },
    extra: [{ when: { 'only-new-issues': true }, needs: { 'pull-requests': 'read' } }],
  },

  // Cloud and registry logins: OIDC needs `id-token: write`, static credentials need nothing.
  {
    action: 'aws-actions/configure-aws-credentials',
    needs: none,
    extra: [{ when: { 'role-to-assume': true, 'aws-access-key-id': false }, needs: { 'id-token': 'write' } }],
  },
  { action: 'azure/login', needs: none, extra: [{ when: { 'client-id': true, creds: false }, needs: { 'id-token': 'write' } }] },
  { action: 'google-github-actions/auth', needs: none, extra: [{ when: { workload_identity_provider: true }, needs: { 'id-token': 'write' } }] },
  { action: 'pypa/gh-action-pypi-publish', needs: none, extra: [{ when: { password: false }, needs: { 'id-token': 'write' } }] },
  { action: 'codecov/codecov-action', needs: none, extra: [{ when: { use_oidc: true }, needs: { 'id-token': 'write' } }] },
  // GHCR accepts the job token; pushing images needs `packages: write`.
  {
    action: 'docker/login-action',
    needs: none,
    extra: [{ when: { registry: /ghcr\.io/, password: githubToken }, needs: { packages: 'write' } }],
  },
  { action: 'docker/setup-buildx-action', needs: none },
  { action: 'docker/setup-qemu-action', needs: none },
  { action: 'docker/build-push-action', needs: none },
  { action: 'docker/bake-action', needs: none },
  { action: 'docker/metadata-action', needs: { contents: 'read' } },
  { action: 'sigstore/cosign-installer', needs: none },

  // Toolchain setup and caches that never call GitHub's API with the job token.
  { action: 'pnpm/action-setup', needs: none },
  { action: 'ruby/setup-ruby', needs: none },
  { action: 'astral-sh/setup-uv', needs: none },
  { action: 'dtolnay/rust-toolchain', needs: none },
  { action: 'swatinem/rust-cache', needs: none },
  { action: 'actions-rust-lang/setup-rust-toolchain', needs: none },
  { action: 'hashicorp/setup-terraform', needs: none },
  { action: 'azure/setup-helm', needs: none },
  { action: 'azure/setup-kubectl', needs: none },
  { action: 'subosito/flutter-action', needs: none },
  { action: 'shivammathur/setup-php', needs: none },
  { action: 'erlef/setup-beam', needs: none },
  { action: 'oven-sh/setup-bun', needs: none },
  { action: 'denoland/setup-deno', needs: none },
  { action: 'gradle/actions/setup-gradle', needs: none, extra: [{ when: { 'dependency-graph': /submit/ }, needs: { contents: 'write' } }] },
  { action: 'gradle/actions/dependency-submission', needs: { contents: 'write' } },
  { action: 'slackapi/slack-github-action', needs: none },
  { action: 'crazy-max/ghaction-import-gpg', needs: none },
];

const byAction = new Map(actionPermissionNeeds.map((entry) => [entry.action, entry]));

/**
 * The entry for a lower-case action name: its own, else its repository's (`owner/repo` covers sub-actions), else
 * undefined.
 */
export function actionPermissionEntry(name: string): ActionPermissionNeeds | undefined {
  const own = byAction.get(name);
  if (own !== undefined) return own;
  const [owner = '', repo = ''] = name.split('/');
  return byAction.get(`${owner}/${repo}`);
}

/** Why an action's token use cannot be bounded, for actions listed as such (sub-actions included). */
export function unboundedActionReason(name: string): string | undefined {
  const [owner = '', repo = ''] = name.split('/');
  return unboundedActions.get(name) ?? unboundedActions.get(`${owner}/${repo}`);
}

/**
 * Shell commands that use the job token in ways that depend on their arguments (`gh` subcommands, API calls,
 * pushes with the credential actions/checkout persisted). A step running one has unknown needs.
 */
export const tokenUsingCommands: ReadonlyArray<{ pattern: RegExp; label: string }> = [
  { pattern: /(?:^|[\s;&|(])gh\s+(?:pr|release|issue|api|workflow|run|repo|label|secret|variable|cache|gist)\b/m, label: '`gh`' },
  { pattern: /\bgit(?:\s+-{1,2}[\w-]+(?:[= ](?!push\b)\S+)?)*\s+push\b/, label: '`git push`' },
  { pattern: /\bapi\.github\.com\b|\$\{?GITHUB_API_URL\b/, label: 'a GitHub API call' },
  { pattern: /\bhub\s+(?:pull-request|release|api)\b/, label: '`hub`' },
];

/** True when text passes the job token along (`secrets.GITHUB_TOKEN`, `github.token`). */
export function passesJobToken(text: string): boolean {
  return /\$\{\{[^}]*(?:secrets\.GITHUB_TOKEN|github\.token)\b[^}]*\}\}/i.test(text);
}

/** The higher of two levels. */
export function higherLevel(a: PermissionLevel | undefined, b: PermissionLevel): PermissionLevel {
  return a === 'write' || b === 'write' ? 'write' : 'read';
}
