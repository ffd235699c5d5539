/**
 * Pure reading of unified diffs: which files a diff touches, and whether every path it names stays inside the
 * work tree. The API answers 422 from validateDiffPaths; the git operations check again before applying.
 *
 * Contract: diffs are `-p1` diffs as `git diff` writes them (old side `a/`, new side `b/`), git-style or plain
 * `---`/`+++`. Only regular files: symlinks, submodules and binary patches are refused, because a CI workflow
 * patch never needs them and a symlink can point outside the repository.
 */
import { type DiffPathProblem, InvalidDiffError } from './errors';
import { hasControlCharacter } from './validate';

export type ChangeStatus = 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';

export interface ChangedFile {
  /** Repository-relative path before the change; null for an added file. */
  oldPath: string | null;
  /** Repository-relative path after the change; null for a deleted file. */
  newPath: string | null;
  status: ChangeStatus;
  oldMode: string | null;
  newMode: string | null;
}

export type DiffPathValidation = { ok: true; files: ChangedFile[] } | { ok: false; problems: DiffPathProblem[] };

/** One file's part of the diff while it is being read. `undefined` = not stated, `null` = /dev/null. */
interface FileSection {
  line: number;
  isGit: boolean;
  headerOld?: string;
  headerNew?: string;
  minusPath?: string | null;
  plusPath?: string | null;
  renameFrom?: string;
  renameTo?: string;
  copyFrom?: string;
  copyTo?: string;
  newFile: boolean;
  deletedFile: boolean;
  oldMode?: string;
  newMode?: string;
  indexMode?: string;
}

const C_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Reads a C-quoted name as git writes it (`"a/tab\there"`, octal bytes for non-ASCII) starting at `start`. */
function unquote(text: string, start: number): { value: string; end: number } | undefined {
  const bytes: Buffer[] = [];
  let run = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === '"') {
      bytes.push(Buffer.from(run, 'utf8'));
      return { value: Buffer.concat(bytes).toString('utf8'), end: i + 1 };
    }
    if (ch !== '\\') {
      run += ch;
      continue;
    }
    bytes.push(Buffer.from(run, 'utf8'));
    run = '';
    const escape = text.charAt(i + 1);
    const octal = /^[0-3][0-7]{2}/.exec(text.slice(i + 1, i + 4));
    const known = C_ESCAPES[escape];
    if (octal) {
      bytes.push(Buffer.from([parseInt(octal[0], 8)]));
      i += 3;
    } else if (known !== undefined) {
      bytes.push(Buffer.from([known]));
      i += 1;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Why a repository-relative path is unsafe to write, or undefined when it is fine. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (hasControlCharacter(path)) return 'control character in path';
  if (path.includes('\\')) return 'backslash in path';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return `'${segment}' path segment`;
    // Case-insensitive filesystems and Windows name folding (trailing dots/spaces, 8.3 names, ADS) reach .git too.
    const folded = segment.toLowerCase().replace(/[. ]+$/, '');
    if (folded === '.git' || folded === 'git~1' || folded.startsWith('.git:')) return 'path inside .git';
  }
  return undefined;
}

function modeProblem(mode: string): string | undefined {
  if (/^100[0-7]{3}$/.test(mode)) return undefined;
  if (mode === '120000') return 'symlinks are not allowed';
  if (mode === '160000') return 'submodules are not allowed';
  return `unsupported file mode ${mode}`;
}

function parseDiff(diff: string): { files: ChangedFile[]; problems: DiffPathProblem[] } {
  const problems: DiffPathProblem[] = [];
  const files: ChangedFile[] = [];
  /** Records a problem once per path and reason (a path is usually named on three lines), at its first line. */
  const report = (line: number, path: string, reason: string): void => {
    if (!problems.some((problem) => problem.path === path && problem.reason === reason)) problems.push({ line, path, reason });
  };
  /**
   * A name as written in the diff, `/dev/null` as null, prefix (`a/`, `b/` or none) checked and stripped. A bad
   * name is reported and returned as written, so the rest of the diff is still read.
   */
  const readName = (text: string, prefix: string, line: number): string | null => {
    let name: string;
    if (text.startsWith('"')) {
      const quoted = unquote(text, 0);
      if (!quoted) {
        report(line, text, 'malformed quoted path');
        return text;
      }
      name = quoted.value;
    } else {
      // Plain diff tools append a tab and a timestamp to the name.
      name = text.split('\t')[0] ?? '';
    }
    if (name === '/dev/null') return null;
    if (!name.startsWith(prefix)) {
      report(line, name, `path must start with '${prefix}' (a -p1 diff as git diff writes it)`);
      return name;
    }
    const path = name.slice(prefix.length);
    const reason = unsafePathReason(path);
    if (reason) report(line, path, reason);
    return path;
  };
  const readMode = (mode: string, line: number): string => {
    const reason = modeProblem(mode);
    if (reason) report(line, '', reason);
    return mode;
  };
  /** `diff --git a/X b/Y`: the names, when they can be told apart (always unless a rename has spaces). */
  const readGitHeader = (section: FileSection, rest: string, line: number): void => {
    let oldText: string | undefined;
    let newText: string | undefined;
    if (rest.startsWith('"')) {
      const first = unquote(rest, 0);
      if (first) {
        oldText = rest.slice(0, first.end);
        newText = rest.slice(first.end + 1);
      }
    } else if (rest.endsWith('"') && rest.includes(' "')) {
      const split = rest.lastIndexOf(' "');
      oldText = rest.slice(0, split);
      newText = rest.slice(split + 1);
    } else if (rest.length % 2 === 1) {
      const half = (rest.length - 1) / 2;
      const left = rest.slice(0, half);
      const right = rest.slice(half + 1);
      if (rest.charAt(half) === ' ' && left.slice(2) === right.slice(2)) {
        oldText = left;
        newText = right;
      }
    }
    if (oldText === undefined || newText === undefined) return;
    section.headerOld = readName(oldText, 'a/', line) ?? undefined;
    section.headerNew = readName(newText, 'b/', line) ?? undefined;
  };
  const readBareName = (text: string, line: number): string => readName(text, '', line) ?? text;

  const finish = (section: FileSection | undefined): void => {
    if (!section) return;
    const added = section.newFile || section.minusPath === null;
    const deleted = section.deletedFile || section.plusPath === null;
    const oldPath = added ? null : (section.renameFrom ?? section.copyFrom ?? section.minusPath ?? section.headerOld);
    const newPath = deleted ? null : (section.renameTo ?? section.copyTo ?? section.plusPath ?? section.headerNew);
    if (oldPath === undefined || newPath === undefined) {
      report(section.line, '', 'cannot determine the file path');
      return;
    }
    let status: ChangeStatus = 'modified';
    if (added) status = 'added';
    else if (deleted) status = 'deleted';
    else if (section.renameFrom !== undefined || section.renameTo !== undefined) status = 'renamed';
    else if (section.copyFrom !== undefined || section.copyTo !== undefined) status = 'copied';
    files.push({
      oldPath,
      newPath,
      status,
      oldMode: added ? null : (section.oldMode ?? section.indexMode ?? null),
      newMode: deleted ? null : (section.newMode ?? section.indexMode ?? null),
    });
  };

  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let section: FileSection | undefined;
  let hunk: { oldLeft: number; newLeft: number; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? '').replace(/\r$/, '');
    const lineNo = index + 1;
    if (hunk) {
      const marker = line.charAt(0);
      // git apply reads an empty line inside a hunk as an empty context line.
      if (marker === ' ' || line === '') {
        hunk.oldLeft--;
        hunk.newLeft--;
      } else if (marker === '-') hunk.oldLeft--;
      else if (marker === '+') hunk.newLeft--;
      else if (marker !== '\\') {
        report(hunk.line, '', 'hunk is shorter than its header says');
        hunk = undefined;
      }
      if (hunk) {
        if (hunk.oldLeft <= 0 && hunk.newLeft <= 0) hunk = undefined;
        continue;
      }
    }
    if (line.startsWith('diff --git ')) {
      finish(section);
      section = { line: lineNo, isGit: true, newFile: false, deletedFile: false };
      readGitHeader(section, line.slice('diff --git '.length), lineNo);
    } else if (line.startsWith('diff --cc ') || line.startsWith('diff --combined ')) {
      finish(section);
      section = undefined;
      report(lineNo, '', 'combined (merge) diffs are not supported');
    } else if (line.startsWith('--- ') && (lines[index + 1] ?? '').startsWith('+++ ')) {
      if (!section?.isGit || section.minusPath !== undefined) {
        finish(section);
        section = { line: lineNo, isGit: false, newFile: false, deletedFile: false };
      }
      section.minusPath = readName(line.slice(4), 'a/', lineNo);
      section.plusPath = readName((lines[index + 1] ?? '').replace(/\r$/, '').slice(4), 'b/', lineNo + 1);
      index++;
    } else if (line.startsWith('@@ ')) {
      const counts = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
      if (!section || section.minusPath === undefined) report(lineNo, '', 'hunk without ---/+++ file header');
      else if (!counts) report(lineNo, '', 'malformed hunk header');
      else hunk = { oldLeft: Number(counts[1] ?? 1), newLeft: Number(counts[2] ?? 1), line: lineNo };
      if (hunk && hunk.oldLeft <= 0 && hunk.newLeft <= 0) hunk = undefined;
    } else if (section?.isGit && section.minusPath === undefined) {
      const [, key = '', value = ''] = /^(old mode|new mode|deleted file mode|new file mode|rename from|rename to|copy from|copy to|index) (.*)$/.exec(line) ?? [];
      if (key === 'old mode') section.oldMode = readMode(value, lineNo);
      else if (key === 'new mode') section.newMode = readMode(value, lineNo);
      else if (key === 'deleted file mode') {
        section.deletedFile = true;
        section.oldMode = readMode(value, lineNo);
      } else if (key === 'new file mode') {
        section.newFile = true;
        section.newMode = readMode(value, lineNo);
      } else if (key === 'rename from') section.renameFrom = readBareName(value, lineNo);
      else if (key === 'rename to') section.renameTo = readBareName(value, lineNo);
      else if (key === 'copy from') section.copyFrom = readBareName(value, lineNo);
      else if (key === 'copy to') section.copyTo = readBareName(value, lineNo);
      else if (key === 'index') {
        const mode = /^\S+ (\d+)$/.exec(value)?.[1];
        if (mode !== undefined) section.indexMode = readMode(mode, lineNo);
      } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
        report(lineNo, '', 'binary patches are not allowed');
      }
    }
    // Anything else outside a hunk is commentary, which git apply skips as well.
  }
  if (hunk) report(hunk.line, '', 'hunk is shorter than its header says');
  finish(section);
  if (files.length === 0 && problems.length === 0) report(1, '', 'the diff changes no file');
  return { files, problems };
}

/** Checks every path a diff names (old, new, rename and copy names, modes); pure. */
export function validateDiffPaths(diff: string): DiffPathValidation {
  const { files, problems } = parseDiff(diff);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, files };
}

/** The files a diff changes; throws InvalidDiffError for a diff validateDiffPaths refuses. */
export function changedFiles(diff: string): ChangedFile[] {
  const validation = validateDiffPaths(diff);
  if (!validation.ok) throw new InvalidDiffError(validation.problems);
  return validation.files;
}
