/**
 * GitHub-hosted runner labels: which ones GitHub currently provides and which images it has retired.
 * Facts as of the reviewer's knowledge of GitHub's runner-images announcements (reviewed 2026-11-24); labels GitHub
 * added after that date are unknown here, which is why rules treat an unknown label as a typo only when it is
 * close to a known one.
 */
export const reviewed = '2026-11-24';

/** Labels of GitHub-hosted runners GitHub documents, standard and larger (fixed-name) runners, lower case. */
export const githubHostedRunnerLabels: ReadonlySet<string> = new Set([
  'ubuntu-latest',
  'ubuntu-slim',
  'ubuntu-22.04',
  'ubuntu-24.04',
  'ubuntu-26.04',
  'ubuntu-22.04-arm',
  'ubuntu-24.04-arm',
  'ubuntu-26.04-arm',
  'windows-latest',
  'windows-2022',
  'windows-2025',
  'windows-2025-vs2026',
  'windows-11-arm',
  'macos-latest',
  'macos-14',
  'macos-15',
  'macos-26',
  'macos-15-intel',
  'macos-26-intel',
  'macos-latest-large',
  'macos-latest-xlarge',
  'macos-14-large',
  'macos-14-xlarge',
  'macos-15-large',
  'macos-15-xlarge',
  'macos-26-large',
  'macos-26-xlarge',
]);

export interface RetiredRunnerLabel {
  /** When GitHub stopped running jobs on the image (YYYY-MM-DD). */
  retired: string;
  /** The closest supported label (same OS family, and the same CPU architecture where that matters). */
  replacement: string;
}

/** Images GitHub has switched off: jobs asking for them never start. Lower-case labels. */
export const retiredRunnerLabels: ReadonlyMap<string, RetiredRunnerLabel> = new Map([
  ['ubuntu-16.04', { retired: '2021-09-20', replacement: 'ubuntu-24.04' }],
  ['ubuntu-18.04', { retired: '2023-04-03', replacement: 'ubuntu-24.04' }],
  ['ubuntu-20.04', { retired: '2025-04-15', replacement: 'ubuntu-24.04' }],
  ['macos-10.15', { retired: '2022-12-01', replacement: 'macos-15-intel' }],
  ['macos-11', { retired: '2024-06-28', replacement: 'macos-15-intel' }],
  ['macos-11.0', { retired: '2024-06-28', replacement: 'macos-15-intel' }],
  ['macos-12', { retired: '2024-12-03', replacement: 'macos-15-intel' }],
  ['macos-12.0', { retired: '2024-12-03', replacement: 'macos-15-intel' }],
  ['macos-12-large', { retired: '2024-12-03', replacement: 'macos-15-large' }],
  ['macos-12-xl', { retired: '2024-12-03', replacement: 'macos-15-xlarge' }],
  ['macos-12-xlarge', { retired: '2024-12-03', replacement: 'macos-15-xlarge' }],
  ['macos-13', { retired: '2025-12-04', replacement: 'macos-15-intel' }],
  ['macos-13.0', { retired: '2025-12-04', replacement: 'macos-15-intel' }],
  ['macos-13-large', { retired: '2025-12-04', replacement: 'macos-15-large' }],
  ['macos-13-xl', { retired: '2025-12-04', replacement: 'macos-15-xlarge' }],
  ['macos-13-xlarge', { retired: '2025-12-04', replacement: 'macos-15-xlarge' }],
  ['macos-latest-xl', { retired: '2024-12-03', replacement: 'macos-latest-xlarge' }],
  ['windows-2016', { retired: '2022-03-15', replacement: 'windows-2022' }],
  ['windows-2019', { retired: '2025-06-30', replacement: 'windows-2022' }],
]);

/** Labels GitHub's runner picks self-hosted machines by; a set containing one of these is not GitHub-hosted. */
export const selfHostedMarkerLabel = 'self-hosted';
