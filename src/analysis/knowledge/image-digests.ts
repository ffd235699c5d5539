/**
 * Digests of container images, for pinning `image: node:18.13.0` to `node:18.13.0@sha256:…` without asking a
 * registry (fixes never touch the network). As of the reviewed date; every entry names the public record it was
 * copied from (docker-library/repo-info lists the manifest-list digest of each official image tag).
 *
 * Only full-version tags are listed: a floating tag (`node:18`, `redis:latest`) moves with every rebuild, so a
 * recorded digest for it would silently pin an older image than the tag serves today. The digest of a full-version
 * tag is the image of that exact release as the record saw it.
 */
export const reviewed = '2026-12-01';

export interface ImageDigest {
  /** `sha256:<64 hex>`, the multi-platform manifest list. */
  digest: string;
  /** When the source recorded it (YYYY-MM-DD). */
  recorded: string;
  source: string;
}

const repoInfo = (path: string): string =>
  `https://github.com/docker-library/repo-info/blob/72e4be79b9c831d8da7d63a6ce871b20fc9e06c1/${path}`;

/** By normalized reference (`name:tag`, Docker Hub's `docker.io/library/` dropped). */
export const imageDigests: ReadonlyMap<string, ImageDigest> = new Map([
  [
    'node:18.13.0',
    {
      digest: 'sha256:d871edd5b68105ebcbfcde3fe8c79d24cbdbb30430d9bd6251c57c56c7bd7646',
      recorded: '2023-01-11',
      source: repoInfo('repos/node/remote/18.13.0.md'),
    },
  ],
  [
    'node:16.19.0',
    {
      digest: 'sha256:27fab5920246070cf13449cf44c25bc4f5adef18ca7482b2bda90b7cf9e64481',
      recorded: '2023-01-11',
      source: repoInfo('repos/node/remote/16.19.0.md'),
    },
  ],
]);

/** `node:18`, `library/node:18`, `docker.io/library/node:18` and `index.docker.io/library/node:18` name one image. */
export function normalizeImageReference(reference: string): string {
  const withoutRegistry = reference.trim().replace(/^(?:(?:index|registry-1)\.)?docker\.io\//i, '');
  return withoutRegistry.replace(/^library\//, '');
}

/** The recorded digest of an image reference without a digest, when the table has its tag. */
export function knownImageDigest(reference: string, table: ReadonlyMap<string, ImageDigest> = imageDigests): ImageDigest | undefined {
  return table.get(normalizeImageReference(reference));
}
