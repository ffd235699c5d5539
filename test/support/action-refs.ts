/** Action ref lookups for tests, so fixes that pin `uses:` run offline. */
import { createHash } from 'node:crypto';
import type { ActionRefLookup } from '../../src/analysis/rule';

/** What one `owner/repo@ref` resolves to in a fixture's refs.json. */
export type ActionRefAnswer = { sha: string; version?: string } | { unresolved: string };

/** Answers from a table keyed `owner/repo@ref` (a golden case's refs.json); refs not in it stay unresolved. */
export function actionRefTable(table: Readonly<Record<string, ActionRefAnswer>>): ActionRefLookup {
  return {
    resolve: (owner, repo, ref) => table[`${owner}/${repo}@${ref}`] ?? { unresolved: `${owner}/${repo}@${ref} is not in the test's table` },
  };
}

/** Resolves every ref, to a SHA derived from `owner/repo@ref` and, for `v4`-like refs a made-up version newer than every release of that major (where a moving major tag points). */
export const everyActionRefResolves: ActionRefLookup = {
  resolve: (owner, repo, ref) => ({
    sha: createHash('sha1').update(`${owner}/${repo}@${ref}`.toLowerCase()).digest('hex'),
    ...(/^v\d+$/.test(ref) ? { version: `${ref}.99.0` } : {}),
  }),
};
