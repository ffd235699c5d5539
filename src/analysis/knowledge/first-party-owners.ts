/**
 * GitHub organizations whose actions and reusable workflows count as first-party by default: they are published by
 * GitHub itself. A repository's configuration can add its own organization or remove these, so rules read
 * `RepositoryView.firstPartyOwners` and never this table directly; whoever builds the repository view starts from it.
 * GitHub facts as of the reviewed date (from knowledge, not fetched).
 */
export const reviewed = '2026-11-24';

/** Lower-case owner names. */
export const defaultFirstPartyOwners: readonly string[] = ['actions', 'github'];
