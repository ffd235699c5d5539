/**
 * What marks a job or a workflow file as publishing: the actions and shell commands that upload packages, release
 * assets or images, and the events that start releases. Read by the cache-poisoning rule (a cache restored before
 * publishing can end up in what is published) and by the cost rules that leave publishing workflow files alone.
 * GitHub and tool facts as of the reviewed date (from knowledge of the actions' READMEs and the tools' CLIs, not
 * fetched).
 */
export const reviewed = '2026-11-24';

/** Actions that publish what the job built every time they run: packages, release assets, images (lower-case). */
export const artifactPublishingActions: ReadonlySet<string> = new Set([
  'pypa/gh-action-pypi-publish',
  'rubygems/release-gem',
  'softprops/action-gh-release',
  'ncipollo/release-action',
  'svenstaro/upload-release-action',
  'actions/upload-release-asset',
  'taiki-e/upload-rust-binary-action',
  'js-devtools/npm-publish',
  'cycjimmy/semantic-release-action',
  'jreleaser/release-action',
  'redhat-actions/push-to-registry',
]);

/** Image builds that push to a registry when their `push:` input is true (or `outputs:` has `push=true`). */
export const imagePushingActions: ReadonlySet<string> = new Set(['docker/build-push-action', 'docker/bake-action']);

/** Runs GoReleaser; it publishes when `args:` runs `release` without `--snapshot`. */
export const goreleaserAction = 'goreleaser/goreleaser-action';

/**
 * Actions of release and deployment workflows that do not upload build output themselves, or only through a command
 * given as an input: they create releases or release pull requests, or deploy sites.
 */
export const releaseActions: ReadonlySet<string> = new Set([
  'actions/create-release',
  'googleapis/release-please-action',
  'google-github-actions/release-please-action',
  'changesets/action',
  'jamesives/github-pages-deploy-action',
  'peaceiris/actions-gh-pages',
  'actions/deploy-pages',
]);

/** Events whose runs exist to publish or deploy something. */
export const releaseEvents: ReadonlySet<string> = new Set(['release', 'registry_package', 'deployment']);

export interface PublishingCommand {
  /** Regular-expression source of the command line, from the program name on. */
  command: string;
  /** How messages name the command. */
  label: string;
}

/** Shell commands that publish packages, images or releases (a wrapper such as `archery docker push` is not one). */
export const publishingCommands: readonly PublishingCommand[] = [
  { command: String.raw`(?:npm|pnpm|yarn)(?:\s+-{1,2}[\w=-]+)*\s+(?:npm\s+)?publish(?![\w-])`, label: 'package publish' },
  { command: String.raw`(?:(?:python3?|py)\s+-m\s+|(?:uv|pipx)\s+run\s+)?twine\s+upload\b`, label: '`twine upload`' },
  { command: String.raw`(?:poetry|uv|hatch|flit)\s+publish\b`, label: 'package publish' },
  { command: String.raw`(?:npx\s+)?(?:lerna|changeset|vsce|ovsx)\s+publish\b`, label: 'package publish' },
  { command: String.raw`cargo\s+(?:\+\S+\s+)?publish\b`, label: '`cargo publish`' },
  { command: String.raw`gem\s+push\b`, label: '`gem push`' },
  { command: String.raw`gh\s+release\s+(?:create|upload)\b`, label: '`gh release`' },
  { command: String.raw`(?:dotnet\s+)?nuget\s+push\b`, label: '`nuget push`' },
  { command: String.raw`docker\s+(?:image\s+)?push\b`, label: '`docker push`' },
  { command: String.raw`docker\s+buildx\s+(?:build|bake)\b.*\s--push\b`, label: '`docker buildx --push`' },
  { command: String.raw`goreleaser\s+release\b`, label: '`goreleaser release`' },
  { command: String.raw`(?:npx\s+)?semantic-release\b`, label: '`semantic-release`' },
  { command: String.raw`(?:\.\/)?mvnw?\b.*\sdeploy\b`, label: '`mvn deploy`' },
];

/** Flags that make a publishing command a rehearsal that publishes nothing. */
export const rehearsalFlags = /--dry-run\b|--snapshot\b/;

/** Where a shell command starts: line start, after `;`, `&&`, `||`, `|`, `(` or `sudo`. */
const commandStart = String.raw`(?:^|[;&|(]|\bsudo)\s*`;
const commandsAtStart = publishingCommands.map(({ command, label }) => ({ pattern: new RegExp(commandStart + command), label }));
const commandsAnywhere = new RegExp(publishingCommands.map(({ command }) => String.raw`\b(?:${command})`).join('|'));

/** The label of the first publishing command a script runs, line by line, skipping rehearsals; else undefined. */
export function publishingCommandIn(script: string): string | undefined {
  for (const line of script.split('\n')) {
    if (rehearsalFlags.test(line)) continue;
    const found = commandsAtStart.find(({ pattern }) => pattern.test(line));
    if (found) return found.label;
  }
  return undefined;
}

/** True when a publishing command appears anywhere in the text, rehearsals included: a broad, text-level signal. */
export function mentionsPublishingCommand(text: string): boolean {
  return commandsAnywhere.test(text);
}
