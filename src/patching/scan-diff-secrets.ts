/**
 * Finds credential literals that a patch adds, by scanning the added lines of its unified diff with the shared
 * secret recognizers. Consecutive added lines are scanned together, so a private key spread over several
 * lines is found too.
 */
import { parsePatch } from 'diff';
import { findSecretLiterals } from '../security/secret-patterns';

export interface AddedSecretLiteral {
  /** Repository-relative path of the file the line is added to. */
  path: string;
  /** 1-based line number in the patched file. */
  line: number;
  patternId: string;
  description: string;
  /** The secret with all but its public prefix hidden: safe for messages and logs. */
  masked: string;
}

/** Added lines that follow each other in the patched file. */
interface AddedBlock {
  firstLine: number;
  lines: string[];
}

/** The path a diff's file section writes, without git's `b/` (or, for a deletion, `a/`) prefix. */
export function patchedPath(newFileName: string | undefined, oldFileName: string | undefined): string {
  const name = newFileName && newFileName !== '/dev/null' ? newFileName : (oldFileName ?? '');
  return /^[ab]\//.test(name) ? name.slice(2) : name;
}

function addedBlocks(hunkLines: readonly string[], newStart: number): AddedBlock[] {
  const blocks: AddedBlock[] = [];
  let current: AddedBlock | undefined;
  let newLine = newStart;
  for (const line of hunkLines) {
    const marker = line.charAt(0);
    if (marker === '+') {
      current ??= { firstLine: newLine, lines: [] };
      current.lines.push(line.slice(1));
      newLine++;
    } else if (marker === ' ') {
      if (current) blocks.push(current);
      current = undefined;
      newLine++;
    }
    // '-' lines are not in the patched file and '\' marks a missing final newline: neither breaks a block.
  }
  if (current) blocks.push(current);
  return blocks;
}

/** Line number (relative to the block) of a character offset in the block's joined text. */
function lineOfOffset(lines: readonly string[], offset: number): number {
  let lineStart = 0;
  for (let index = 0; index < lines.length; index++) {
    lineStart += (lines[index]?.length ?? 0) + 1;
    if (offset < lineStart) return index;
  }
  return lines.length - 1;
}

/**
 * Credential literals on added lines of `unifiedDiff`, in diff order. Throws when the diff cannot be parsed
 * (the caller must then treat the patch as unscanned).
 */
export function scanAddedLinesForSecrets(unifiedDiff: string): AddedSecretLiteral[] {
  const found: AddedSecretLiteral[] = [];
  for (const filePatch of parsePatch(unifiedDiff)) {
    const path = patchedPath(filePatch.newFileName, filePatch.oldFileName);
    for (const hunk of filePatch.hunks) {
      for (const block of addedBlocks(hunk.lines, hunk.newStart)) {
        for (const literal of findSecretLiterals(block.lines.join('\n'))) {
          found.push({
            path,
            line: block.firstLine + lineOfOffset(block.lines, literal.start),
            patternId: literal.patternId,
            description: literal.description,
            masked: literal.masked,
          });
        }
      }
    }
  }
  return found;
}
