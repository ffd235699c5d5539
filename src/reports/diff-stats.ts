/** What a unified diff changes, counted: files, and lines added and removed per file. */
import { parsePatch } from 'diff';
import { patchedPath } from '../patching/scan-diff-secrets';

export interface FileChangeStats {
  /** Repository-relative path the change writes (for a deletion, the removed file). */
  path: string;
  linesAdded: number;
  linesRemoved: number;
}

export interface DiffStats {
  filesChanged: number;
  linesAdded: number;
  linesRemoved: number;
  files: FileChangeStats[];
}

/** The diff's statistics, or null when it is not a unified diff the parser can read (a patch that failed its tests may hold one). */
export function diffStats(diff: string): DiffStats | null {
  let sections;
  try {
    sections = parsePatch(diff);
  } catch {
    return null;
  }
  const files = sections
    .filter((section) => section.hunks.length > 0)
    .map((section) => {
      const lines = section.hunks.flatMap((hunk) => hunk.lines);
      return {
        path: patchedPath(section.newFileName, section.oldFileName),
        linesAdded: lines.filter((line) => line.startsWith('+')).length,
        linesRemoved: lines.filter((line) => line.startsWith('-')).length,
      };
    });
  return {
    filesChanged: files.length,
    linesAdded: files.reduce((sum, file) => sum + file.linesAdded, 0),
    linesRemoved: files.reduce((sum, file) => sum + file.linesRemoved, 0),
    files,
  };
}
