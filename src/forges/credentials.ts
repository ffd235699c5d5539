/**
 * Forge credentials: named entries an administrator puts in a secrets file (FORGE_CREDENTIALS_FILE, YAML) or in the
 * environment (FORGE_CREDENTIALS, the same document), never in the database. A target names an entry; the entry,
 * not the target, decides which server the secret goes to (its `baseUrl` for the REST API, its `gitUrl` prefix for
 * git pushes), so whoever registers a target cannot send the bot's token anywhere else.
 *
 * Secret values sit in private fields: they are out of JSON, util.inspect and error messages.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FORGE_KINDS, type ForgeKind } from './forge';

/** How the adapter authenticates: a personal access token, or (GitHub) an App's id and private key. */
export type ForgeAuth =
  | { kind: 'token'; token: string }
  | { kind: 'github-app'; appId: string; privateKey: string; installationId: number | undefined };

/** One named credential; `auth()` is the only way to its secret. */
export class ForgeCredential {
  readonly #auth: ForgeAuth;

  constructor(
    readonly name: string,
    readonly forge: ForgeKind,
    /** The REST API root: Gitea's server URL, `https://api.github.com`, or a GitHub Enterprise Server's `https://host/api/v3`. */
    readonly baseUrl: string,
    /** The URL prefix git sends the credential to; repository URLs of the targets using it must start with it. */
    readonly gitUrl: string,
    auth: ForgeAuth,
  ) {
    this.#auth = auth;
  }

  auth(): ForgeAuth {
    return this.#auth;
  }

  /** What logs and errors may show. */
  toJSON(): Record<string, string> {
    return { name: this.name, forge: this.forge, baseUrl: this.baseUrl, gitUrl: this.gitUrl, auth: this.#auth.kind };
  }

  [inspect.custom](): string {
    return `ForgeCredential ${JSON.stringify(this.toJSON())}`;
  }
}

export class ForgeCredentialsError extends Error {
  override readonly name = 'ForgeCredentialsError';
}

export const CREDENTIAL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

const urlSchema = z.string().refine(isHttpUrl, { message: 'must be an http(s) URL without credentials, query or fragment' });
/** A secret given inline, or by the name of an environment variable or of a file holding it. */
const secretSources = { inline: z.string().min(1).optional(), env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(), file: z.string().min(1).optional() };

const entrySchema = z
  .object({
    forge: z.enum(FORGE_KINDS),
    baseUrl: urlSchema,
    gitUrl: urlSchema.optional(),
    token: secretSources.inline,
    tokenEnv: secretSources.env,
    tokenFile: secretSources.file,
    appId: z.union([z.string().regex(/^\d+$/), z.number().int().positive()]).optional(),
    privateKey: secretSources.inline,
    privateKeyEnv: secretSources.env,
    privateKeyFile: secretSources.file,
    installationId: z.number().int().positive().optional(),
  })
  .strict();
type Entry = z.infer<typeof entrySchema>;

const documentSchema = z.record(z.string(), entrySchema);

/** The secret of one of the three sources set, read now; undefined when none is set. */
function readSecret(what: string, inline: string | undefined, envName: string | undefined, file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const given = [inline, envName, file].filter((source) => source !== undefined).length;
  if (given > 1) throw new ForgeCredentialsError(`${what} is given more than once (use one of the inline value, the variable name or the file)`);
  if (inline !== undefined) return inline;
  if (envName !== undefined) {
    const value = env[envName];
    if (value === undefined || value.trim() === '') throw new ForgeCredentialsError(`${what} names environment variable ${envName}, which is not set`);
    return value.trim();
  }
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new ForgeCredentialsError(`${what} names file ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return undefined;
}

/** Where git pushes go by default: github.com for the public API, the server itself otherwise. */
function defaultGitUrl(forge: ForgeKind, baseUrl: string): string {
  const url = new URL(baseUrl);
  if (forge === 'github') return url.hostname === 'api.github.com' ? 'https://github.com/' : `${url.origin}/`;
  return `${baseUrl.replace(/\/+$/, '')}/`;
}

function credentialOf(name: string, entry: Entry, env: NodeJS.ProcessEnv): ForgeCredential {
  const what = (field: string) => `credential ${name}: ${field}`;
  const token = readSecret(what('token'), entry.token, entry.tokenEnv, entry.tokenFile, env);
  const privateKey = readSecret(what('privateKey'), entry.privateKey, entry.privateKeyEnv, entry.privateKeyFile, env);
  let auth: ForgeAuth;
  if (token !== undefined) {
    if (privateKey !== undefined || entry.appId !== undefined) throw new ForgeCredentialsError(`${what('token')} and an App (appId, privateKey) are both given; use one`);
    auth = { kind: 'token', token };
  } else if (entry.appId !== undefined && privateKey !== undefined) {
    if (entry.forge !== 'github') throw new ForgeCredentialsError(`${what('appId')} is a GitHub App setting; a ${entry.forge} credential needs a token`);
    auth = { kind: 'github-app', appId: String(entry.appId), privateKey, installationId: entry.installationId };
  } else {
    throw new ForgeCredentialsError(`credential ${name} needs a token (token, tokenEnv or tokenFile)${entry.forge === 'github' ? ', or appId with a private key' : ''}`);
  }
  const baseUrl = entry.baseUrl.replace(/\/+$/, '');
  const gitUrl = entry.gitUrl === undefined ? defaultGitUrl(entry.forge, baseUrl) : `${entry.gitUrl.replace(/\/+$/, '')}/`;
  return new ForgeCredential(name, entry.forge, baseUrl, gitUrl, auth);
}

export interface ForgeCredentialSources {
  /** FORGE_CREDENTIALS_FILE. */
  file: string | undefined;
  /** FORGE_CREDENTIALS. */
  inline: string | undefined;
}

/** The named credentials of the file and the variable (a name in both is refused); throws naming what is wrong. */
export function loadForgeCredentials(sources: ForgeCredentialSources, env: NodeJS.ProcessEnv = process.env): ReadonlyMap<string, ForgeCredential> {
  const documents: Array<{ origin: string; text: string }> = [];
  if (sources.file !== undefined) {
    try {
      documents.push({ origin: sources.file, text: readFileSync(sources.file, 'utf8') });
    } catch (error) {
      throw new ForgeCredentialsError(`FORGE_CREDENTIALS_FILE ${sources.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (sources.inline !== undefined) documents.push({ origin: 'FORGE_CREDENTIALS', text: sources.inline });
  const credentials = new Map<string, ForgeCredential>();
  for (const { origin, text } of documents) {
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (error) {
      throw new ForgeCredentialsError(`${origin} is not YAML: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
    const parsed = documentSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // The path names the entry and field; the value (maybe a secret) is never repeated.
      throw new ForgeCredentialsError(`${origin}: ${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'}`);
    }
    for (const [name, entry] of Object.entries(parsed.data)) {
      if (!CREDENTIAL_NAME_PATTERN.test(name)) throw new ForgeCredentialsError(`${origin}: "${name}": credential names are letters, digits, ".", "_" and "-" (at most 64)`);
      if (credentials.has(name)) throw new ForgeCredentialsError(`credential ${name} is defined twice (${origin})`);
      credentials.set(name, credentialOf(name, entry, env));
    }
  }
  return credentials;
}
