/**
 * Which repository URLs the service accepts, decided in one place for the API (at registration and patch
 * creation) and for the git layer (before every clone and push). git itself would also take remote helpers
 * (`ext::sh -c ...` runs a command), option-like arguments (`--upload-pack=...`), and local paths that read the
 * worker's own disk; those are refused here, local paths unless the server allows them.
 */
import { isIP } from 'node:net';
import { InvalidInputError } from './errors';
import { hasControlCharacter, redactCredentials } from './validate';

export interface RepoUrlPolicy {
  /** Local paths and file:// URLs (the all-in-one stack's default; never on a shared server). */
  allowLocal: boolean;
}

export type RepoUrlKind = 'https' | 'http' | 'ssh' | 'scp' | 'file' | 'path';

/** git's protocol names for GIT_ALLOW_PROTOCOL, by the kinds a policy accepts. */
export function allowedGitProtocols(policy: RepoUrlPolicy): string {
  return ['https', 'http', 'ssh', ...(policy.allowLocal ? ['file'] : [])].join(':');
}

const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** `<transport>::<address>`: git hands the address to a remote helper program (`ext::` runs any command). */
const REMOTE_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/;
/** `[user@]host:path` with no slash before the colon, as git decides it (connect.c, parse_connect_url). */
const SCP_LIKE = /^(?:([^@/:]*)@)?(\[[^\]]*\]|[^/:]+):(.*)$/;

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

function hostProblem(host: string): string | undefined {
  if (host === '') return 'names no host';
  if (host.startsWith('-')) return 'has a host name starting with "-", which ssh would read as an option';
  return undefined;
}

/** The kind of a repository URL, or why it is refused (a predicate such as "must not ..."). */
export function classifyRepoUrl(url: string, policy: RepoUrlPolicy): { kind: RepoUrlKind } | { problem: string } {
  if (url.trim() === '') return { problem: 'must not be empty' };
  if (url.startsWith('-')) return { problem: 'must not start with "-": git would read it as an option' };
  if (REMOTE_HELPER.test(url)) {
    return { problem: 'uses git\'s remote-helper form (such as ext:: or fd::), which can run commands on the worker; use an https or ssh URL' };
  }
  if (/\s/.test(url) || hasControlCharacter(url)) return { problem: 'must not contain spaces or control characters' };
  const local = (kind: 'file' | 'path'): { kind: RepoUrlKind } | { problem: string } =>
    policy.allowLocal ? { kind } : { problem: 'names a local repository, which this server does not allow (ALLOW_LOCAL_REPOS is off); use an https or ssh URL' };

  const scheme = URL_SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { problem: 'is not a valid URL' };
    }
    if (scheme === 'file') return parsed.host === '' ? local('file') : { problem: 'must name a file:// path on this machine (file:///path)' };
    if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh') {
      return { problem: `uses ${scheme}://, which is not accepted; use https://, ssh:// or user@host:path` };
    }
    if (parsed.password !== '') return { problem: 'must not contain a password or token; give the worker its credentials another way (a credential helper or ssh key)' };
    const host = hostProblem(parsed.hostname);
    if (host) return { problem: host };
    if (decodeURIComponent(parsed.username).startsWith('-')) return { problem: 'has a user name starting with "-", which ssh would read as an option' };
    if (scheme === 'ssh') return { kind: 'ssh' };
    if (parsed.username !== '') return { problem: 'must not contain a user name or token; give the worker its credentials another way (a credential helper)' };
    if (scheme === 'http' && !isLoopbackHost(parsed.hostname)) {
      return { problem: 'uses plain http://, which sends code and credentials unencrypted; use https:// (http:// is accepted for loopback hosts only)' };
    }
    return { kind: scheme };
  }
  const scp = SCP_LIKE.exec(url);
  if (scp && !url.startsWith('/') && !url.startsWith('.')) {
    const [, user = '', host = '', repoPath = ''] = scp;
    const problem = hostProblem(host);
    if (problem) return { problem };
    if (user.startsWith('-')) return { problem: 'has a user name starting with "-", which ssh would read as an option' };
    if (repoPath === '' || repoPath.startsWith('-')) return { problem: 'must name a repository path after the colon, not starting with "-"' };
    return { kind: 'scp' };
  }
  if (!url.startsWith('/')) return { problem: 'must be an https or ssh URL, user@host:path, or an absolute local path' };
  return local('path');
}

/** Why `url` is refused, as a predicate ("must not ..."), or undefined when it is accepted. */
export function repoUrlProblem(url: string, policy: RepoUrlPolicy): string | undefined {
  const verdict = classifyRepoUrl(url, policy);
  return 'problem' in verdict ? verdict.problem : undefined;
}

/** Refuses repository URLs the policy does not accept, before they reach git's argv. */
export function assertRepoUrl(repoUrl: string, policy: RepoUrlPolicy): void {
  const problem = repoUrlProblem(repoUrl, policy);
  if (problem) throw new InvalidInputError(`the repository URL ${JSON.stringify(redactCredentials(repoUrl))} ${problem}`);
}
