/**
 * How the common setup actions cache package-manager downloads: which input turns caching on or off, from which
 * major version they cache by default, and which lockfiles and install commands belong to each package manager.
 * GitHub facts as of the reviewed date (from knowledge of the actions' READMEs, not fetched).
 */
export const reviewed = '2026-11-24';

export interface PackageManagerCaching {
  /** The value to give the action's cache input, e.g. `npm`; `true` for boolean inputs. */
  cacheValue: string;
  /** Repository-root paths whose presence shows the project uses this package manager, most specific first. */
  lockfiles: readonly string[];
  /** A `run:` script that installs dependencies with this package manager (caching without installs is useless). */
  installCommand: RegExp;
  /**
   * From this major version on the action may cache for this package manager without any input (setup-go always,
   * setup-node for npm when package.json names npm in `packageManager`, which a rule cannot see).
   */
  mayCacheByDefaultFromMajor?: number;
  /** Extra advice for the remediation (ordering constraints and the like). */
  note?: string;
}

export interface SetupActionCaching {
  /** Lower-case `owner/repo`. */
  action: string;
  /** Inputs whose presence (any value) means the author decided about caching: on, off or an expression. */
  cacheInputs: readonly string[];
  /** The input to suggest. */
  suggestedInput: string;
  packageManagers: readonly PackageManagerCaching[];
}

const pipInstall = /\bpip3?\s+install\b[^\n]*(?:\s-r\s|\s--requirement[\s=]|\s-e\s|\s\.(?:\[|\s|$))/m;

export const setupActionCaching: readonly SetupActionCaching[] = [
  {
    action: 'actions/setup-node',
    cacheInputs: ['cache', 'package-manager-cache'],
    suggestedInput: 'cache',
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
      },
    ],
  },
  {
    action: 'actions/setup-python',
    cacheInputs: ['cache'],
    suggestedInput: 'cache',
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
      },
    ],
  },
  {
    action: 'actions/setup-go',
    cacheInputs: ['cache'],
    suggestedInput: 'cache',
    packageManagers: [
      {
        cacheValue: 'true',
        lockfiles: ['go.sum'],
        installCommand: /\bgo\s+(?:build|test|vet|run|install|generate|mod\s+download)\b/,
        mayCacheByDefaultFromMajor: 4,
      },
    ],
  },
  {
    action: 'actions/setup-java',
    cacheInputs: ['cache'],
    suggestedInput: 'cache',
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
    cacheInputs: ['bundler-cache'],
    suggestedInput: 'bundler-cache',
    packageManagers: [
      {
        cacheValue: 'true',
        lockfiles: ['Gemfile.lock'],
        installCommand: /\bbundle\s+install\b/,
        note: 'With `bundler-cache: true` the action runs `bundle install` itself; the separate install step can go.',
      },
    ],
  },
  {
    action: 'actions/setup-dotnet',
    cacheInputs: ['cache'],
    suggestedInput: 'cache',
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
