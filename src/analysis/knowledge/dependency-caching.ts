/**
 * Which actions restore caches and how each is switched on (read by cache-poisoning), and how the common setup
 * actions cache package-manager downloads: which lockfiles and install commands belong to each package manager
 * (read by missing-dependency-cache). GitHub facts as of the reviewed date (from knowledge of the actions' READMEs
 * and action.yml files, not fetched).
 */
export const reviewed = '2026-11-24';

/**
 * How an action decides whether it restores a cache:
 * - `always`: whenever it runs;
 * - `unless-true`: unless the input is literally true (`lookup-only`, `cache-disabled`);
 * - `when-true`: when the input is literally true, or when absent on majors [from, before) that default it on;
 * - `when-set`: when the input names something to cache (`cache: npm`).
 */
export type CacheToggle =
  | { kind: 'always' }
  | { kind: 'unless-true'; input: string }
  | { kind: 'when-true'; input: string; defaultOn?: { from: number; before?: number } }
  | { kind: 'when-set'; input: string };

export interface PackageManagerCaching {
  /** The value to give the action's cache input, e.g. `npm`; `true` for boolean inputs. */
  cacheValue: string;
  /** Repository-root paths whose presence shows the project uses this package manager, most specific first. */
  lockfiles: readonly string[];
  /** A `run:` script that installs dependencies with this package manager (caching without installs is useless). */
  installCommand: RegExp;
  /**
   * From this major version on the action may cache for this package manager without any input, under conditions a
   * rule cannot see (setup-node for npm when package.json names npm in `packageManager`). Defaults the toggle always
   * applies are in `toggle.defaultOn`.
   */
  mayCacheByDefaultFromMajor?: number;
  /** Extra advice for the remediation (ordering constraints and the like). */
  note?: string;
  /**
   * A tool the setup action runs to find its cache folder, which must be installed by an earlier step (else the
   * setup step fails): the actions or commands that install it.
   */
  prerequisite?: { tool: string; actions: readonly string[]; commands: RegExp };
  /** What else the cache input changes, when it does more than cache (makes the automatic fix unsafe). */
  sideEffect?: string;
}

export interface SetupActionCaching {
  /** Lower-case `owner/repo`. */
  action: string;
  /** The input that switches caching, which is also the one to suggest. */
  toggle: Extract<CacheToggle, { kind: 'when-set' | 'when-true' }>;
  /** Further inputs whose presence (any value) means the author decided about caching. */
  otherCacheInputs?: readonly string[];
  packageManagers: readonly PackageManagerCaching[];
}

const pipInstall = /\bpip3?\s+install\b[^\n]*(?:\s-r\s|\s--requirement[\s=]|\s-e\s|\s\.(?:\[|\s|$))/m;

export const setupActionCaching: readonly SetupActionCaching[] = [
  {
    action: 'actions/setup-node',
    toggle: { kind: 'when-set', input: 'cache' },
    otherCacheInputs: ['package-manager-cache'],
    packageManagers: [
      {
        cacheValue: 'npm',
        lockfiles: ['package-lock.json', 'npm-shrinkwrap.json'],
        installCommand: /\bnpm\s+(?:ci|install|i)\b(?![^\n]*\s(?:-g|--global)\b)/,
        mayCacheByDefaultFromMajor: 5,
      },
      {
        cacheValue: 'yarn',
        lockfiles: ['yarn.lock'],
        installCommand: /\byarn(?:\s+install\b|[ \t]*(?:$|&&|;|\|)|\s+--(?:frozen-lockfile|immutable)\b)/m,
      },
      {
        cacheValue: 'pnpm',
        lockfiles: ['pnpm-lock.yaml'],
        installCommand: /\bpnpm\s+(?:install|i)\b/,
        note: 'pnpm must be installed before setup-node (e.g. with pnpm/action-setup) for `cache: pnpm` to work.',
        // setup-node runs `pnpm store path`.
        prerequisite: { tool: 'pnpm', actions: ['pnpm/action-setup'], commands: /\bnpm\s+(?:i|install)\s+(?:-g|--global)\s+pnpm\b|\bcorepack\s+enable\b/ },
      },
    ],
  },
  {
    action: 'actions/setup-python',
    toggle: { kind: 'when-set', input: 'cache' },
    packageManagers: [
      {
        cacheValue: 'pip',
        lockfiles: [
          'requirements.txt',
          'requirements-dev.txt',
          'requirements_dev.txt',
          'requirements-test.txt',
          'requirements_test.txt',
          'dev-requirements.txt',
          'test-requirements.txt',
        ],
        installCommand: pipInstall,
      },
      {
        cacheValue: 'pipenv',
        lockfiles: ['Pipfile.lock'],
        installCommand: /\bpipenv\s+(?:install|sync)\b/,
      },
      {
        cacheValue: 'poetry',
        lockfiles: ['poetry.lock'],
        installCommand: /\bpoetry\s+install\b/,
        note: 'Poetry must be installed before setup-python (e.g. `pipx install poetry`) for `cache: poetry` to work.',
        // setup-python runs `poetry config cache-dir`.
        prerequisite: {
          tool: 'Poetry',
          actions: ['snok/install-poetry', 'abatilo/actions-poetry'],
          commands: /\bpipx\s+install\s+poetry\b|\bpip3?\s+install\b[^\n]*\bpoetry\b/,
        },
      },
    ],
  },
  {
    action: 'actions/setup-go',
    toggle: { kind: 'when-true', input: 'cache', defaultOn: { from: 4 } },
    packageManagers: [
      {
        cacheValue: 'true',
        lockfiles: ['go.sum'],
        installCommand: /\bgo\s+(?:build|test|vet|run|install|generate|mod\s+download)\b/,
      },
    ],
  },
  {
    action: 'actions/setup-java',
    toggle: { kind: 'when-set', input: 'cache' },
    packageManagers: [
      { cacheValue: 'maven', lockfiles: ['pom.xml'], installCommand: /(?:^|[\s/])mvnw?\b/m },
      {
        cacheValue: 'gradle',
        lockfiles: ['build.gradle.kts', 'build.gradle', 'settings.gradle.kts', 'settings.gradle'],
        installCommand: /(?:^|[\s/])gradlew?\b/m,
      },
      { cacheValue: 'sbt', lockfiles: ['build.sbt'], installCommand: /(?:^|\s)sbt\b/m },
    ],
  },
  {
    action: 'ruby/setup-ruby',
    toggle: { kind: 'when-true', input: 'bundler-cache' },
    packageManagers: [
      {
        cacheValue: 'true',
        lockfiles: ['Gemfile.lock'],
        installCommand: /\bbundle\s+install\b/,
        note: 'With `bundler-cache: true` the action runs `bundle install` itself; the separate install step can go.',
        sideEffect: 'it also runs `bundle install` in deployment mode (frozen Gemfile.lock) before the later steps',
      },
    ],
  },
  {
    action: 'actions/setup-dotnet',
    toggle: { kind: 'when-true', input: 'cache' },
    packageManagers: [
      {
        cacheValue: 'true',
        lockfiles: ['packages.lock.json'],
        installCommand: /\bdotnet\s+(?:restore|build|test|publish)\b/,
      },
    ],
  },
];

/** Actions that cache on their own; a job using one of them is not missing a cache (lower-case owner/repo prefixes). */
export const cachingActions: readonly string[] = [
  'actions/cache',
  'gradle/actions/setup-gradle',
  'gradle/gradle-build-action',
  'buildjet/cache',
  'useblacksmith/cache',
  'runs-on/cache',
  'tespkg/actions-cache',
  'whywaita/actions-cache-s3',
];

/** Every action known to restore a cache, by lower-case name (`owner/repo[/path]`), and how it is switched on. */
export const cacheRestoringActions: ReadonlyMap<string, CacheToggle> = new Map<string, CacheToggle>([
  ...setupActionCaching.map(({ action, toggle }): [string, CacheToggle] => [action, toggle]),
  ['actions/cache', { kind: 'unless-true', input: 'lookup-only' }],
  ['actions/cache/restore', { kind: 'unless-true', input: 'lookup-only' }],
  ['astral-sh/setup-uv', { kind: 'when-true', input: 'enable-cache', defaultOn: { from: 5, before: 10 } }],
  ['swatinem/rust-cache', { kind: 'unless-true', input: 'lookup-only' }],
  ['gradle/actions/setup-gradle', { kind: 'unless-true', input: 'cache-disabled' }],
  ['gradle/gradle-build-action', { kind: 'unless-true', input: 'cache-disabled' }],
  ['pyo3/maturin-action', { kind: 'when-true', input: 'sccache' }],
  ['mozilla-actions/sccache-action', { kind: 'always' }],
  ['actions-rust-lang/setup-rust-toolchain', { kind: 'when-true', input: 'cache', defaultOn: { from: 1 } }],
  ['jdx/mise-action', { kind: 'when-true', input: 'cache', defaultOn: { from: 1 } }],
  ['graalvm/setup-graalvm', { kind: 'when-set', input: 'cache' }],
  ['mlugg/setup-zig', { kind: 'when-true', input: 'use-cache', defaultOn: { from: 1 } }],
  ['awalsh128/cache-apt-pkgs-action', { kind: 'always' }],
  ['nix-community/cache-nix-action', { kind: 'always' }],
]);
