/**
 * The forges a worker or the API can reach: the named credentials, and a Forge per target's `forge` link.
 * Which server a credential's secret goes to is the credential's business (credentials.ts), so a target can only
 * pick a credential, and its repository URL must be on that credential's git server.
 */
import type { ForgeLink, Target } from '../domain/types';
import { DeliveryConfigError } from '../delivery/errors';
import { type ForgeCredential, type ForgeCredentialSources, loadForgeCredentials } from './credentials';
import type { Forge, GitCredentials, RepositoryName } from './forge';
import { createGiteaForge } from './gitea';
import { createGithubForge } from './github';

export type { Forge } from './forge';

export const REPOSITORY_NAME_PATTERN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function repositoryName(text: string): RepositoryName {
  const [owner = '', name = ''] = text.split('/');
  if (!REPOSITORY_NAME_PATTERN.test(text) || owner === '.' || owner === '..' || name === '.' || name === '..') {
    throw new DeliveryConfigError(`"${text}" is not a repository name (owner/name)`);
  }
  return { owner, name };
}

export class ForgeDirectory {
  /** One adapter per credential and repository: a GitHub App's installation token and a Gitea login are reused. */
  private readonly opened = new Map<string, Forge>();

  constructor(private readonly credentials: ReadonlyMap<string, ForgeCredential>) {}

  static load(sources: ForgeCredentialSources): ForgeDirectory {
    return new ForgeDirectory(loadForgeCredentials(sources));
  }

  names(): string[] {
    return [...this.credentials.keys()].sort();
  }

  /** Why `link` and `repoUrl` cannot be used together, or undefined (for the API door and the activities). */
  problem(link: ForgeLink, repoUrl: string): string | undefined {
    const credential = this.credentials.get(link.credential);
    if (!credential) {
      const known = this.names();
      return `no forge credential named "${link.credential}" is configured on this server (${known.length > 0 ? `known: ${known.join(', ')}` : 'set FORGE_CREDENTIALS_FILE or FORGE_CREDENTIALS'})`;
    }
    if (!repoUrl.startsWith(credential.gitUrl)) return `the repository URL must be on the credential's git server ${credential.gitUrl}, where git may send it`;
    return undefined;
  }

  private credential(link: ForgeLink, repoUrl: string): ForgeCredential {
    const problem = this.problem(link, repoUrl);
    const credential = this.credentials.get(link.credential);
    if (problem !== undefined || credential === undefined) throw new DeliveryConfigError(problem ?? 'unknown credential');
    return credential;
  }

  open(link: ForgeLink, repoUrl: string): Forge {
    const credential = this.credential(link, repoUrl);
    const key = `${credential.name}\n${link.repository}`;
    const known = this.opened.get(key);
    if (known) return known;
    const repository = repositoryName(link.repository);
    const forge = credential.forge === 'gitea' ? createGiteaForge({ credential, repository }) : createGithubForge({ credential, repository });
    this.opened.set(key, forge);
    return forge;
  }

  /**
   * git configuration that lets clones and fetches of a target on a forge read a private repository; none for a
   * target without a usable forge link (its clones go unauthenticated, as before).
   */
  async gitAccess(target: Pick<Target, 'forge' | 'repoUrl'>): Promise<Record<string, string>> {
    if (!target.forge || this.problem(target.forge, target.repoUrl) !== undefined) return {};
    const forge = this.open(target.forge, target.repoUrl);
    return this.gitConfig(target.forge, target.repoUrl, await forge.gitCredentials());
  }

  /**
   * git configuration sending the forge's credentials with requests to the credential's git server only
   * (`http.<url>.extraHeader`), passed through the environment, never argv.
   */
  gitConfig(link: ForgeLink, repoUrl: string, credentials: GitCredentials): Record<string, string> {
    const { gitUrl } = this.credential(link, repoUrl);
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    return { [`http.${gitUrl}.extraHeader`]: `Authorization: Basic ${basic}` };
  }
}
