/**
 * The commit messages of deploys and reverts: the subject, then one paragraph of trailers (`Patch-Id: <id>` or
 * `Reverts-Patch-Id: <id>` first, the branch's ledger; then extra ones such as `Approved-by`), committed only after
 * git's own trailer parser reads back exactly those trailers.
 */
import { InvalidInputError } from './errors';
import { type GitOptions, gitText } from './git-cli';
import { dropOldest } from '../util/drop-oldest';
import { assertTrailerKey, assertTrailerValue } from './validate';

export const PATCH_ID_TRAILER = 'Patch-Id';
export const REVERTS_PATCH_ID_TRAILER = 'Reverts-Patch-Id';

/** A commit and its tree: the parent a commit is made on. */
export interface CommitAndTree {
  sha: string;
  treeSha: string;
}

/** Extra trailers such as `{ 'Approved-by': ['alice', 'bob'] }`; a list gives one trailer line per value. */
export type Trailers = Readonly<Record<string, string | readonly string[]>>;

/** The trailer lines of a commit: the idempotency key first, then the extra ones; refuses a second key. */
export function trailerLines(keyName: string, patchId: string, extra: Trailers | undefined): [string, string][] {
  assertTrailerValue(keyName, patchId);
  const lines: [string, string][] = [[keyName, patchId]];
  for (const [key, values] of Object.entries(extra ?? {})) {
    assertTrailerKey(key);
    const folded = key.toLowerCase();
    for (const value of typeof values === 'string' ? [values] : values) {
      assertTrailerValue(key, value);
      if (folded === keyName.toLowerCase() && value === patchId) continue;
      if (folded === PATCH_ID_TRAILER.toLowerCase() || folded === REVERTS_PATCH_ID_TRAILER.toLowerCase()) {
        throw new InvalidInputError(`trailer ${key} is set from patchId and cannot be given separately`);
      }
      lines.push([key, value]);
    }
  }
  return lines;
}

/** The trailer lines a commit of this module carries (`Patch-Id: <id>`, then the extra ones), validated the same way. */
export function trailerBlock(keyName: typeof PATCH_ID_TRAILER | typeof REVERTS_PATCH_ID_TRAILER, patchId: string, extra: Trailers | undefined): string[] {
  return trailerLines(keyName, patchId, extra).map(trailerText);
}

/** A trailer line as a commit message carries it and git's parser gives it back. */
function trailerText([key, value]: readonly [string, string]): string {
  return `${key}: ${value}`;
}

/** A line git's trailer parser takes for the start of a patch (`---` then a space or the line's end), unless --no-divider. */
const DIVIDER_LINE = /^---(\s|$)/m;

/**
 * Messages git's trailer parser read back as intended (the parse depends on the text alone: no trailer settings
 * reach it). A patch's message is the same on each of its targets, so it is asked once; the oldest are forgotten.
 */
const verifiedMessages = new Set<string>();
const MAX_VERIFIED_MESSAGES = 256;

/**
 * Commits `treeSha` on `parent` as the configured identity with `message` followed by the trailer paragraph,
 * verbatim; undefined when the tree is `parent`'s (nothing to commit). Before committing, git's own trailer
 * parser must read back exactly the intended trailers, with and without the divider rule: no text in `message`
 * can add, hide or alter one. (Without a divider line the two readings are the same: one is asked.)
 * commit-tree, not commit + rev-parse: fewer git processes, and the SHA comes back directly.
 */
export async function commitTree(dir: string, message: string, trailers: readonly [string, string][], parent: CommitAndTree, treeSha: string, options: GitOptions): Promise<string | undefined> {
  const paragraph = trailers.map(trailerText).join('\n');
  const full = `${message.trimEnd()}\n\n${paragraph}\n`;
  if (!verifiedMessages.has(full)) {
    const readings = DIVIDER_LINE.test(full) ? [['--no-divider'], []] : [['--no-divider']];
    for (const flags of readings) {
      const parsed = await gitText(dir, ['interpret-trailers', '--parse', ...flags], options, { input: full });
      if (parsed !== paragraph) throw new InvalidInputError('the commit message would change the commit\'s trailers; refusing to commit it');
    }
    verifiedMessages.add(full);
    dropOldest(verifiedMessages, MAX_VERIFIED_MESSAGES);
  }
  if (treeSha === parent.treeSha) return undefined;
  return gitText(dir, ['commit-tree', treeSha, '-p', parent.sha, '-F', '-'], options, { input: full });
}
