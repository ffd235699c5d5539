/**
 * Local development credentials for the all-in-one starter: a JWT secret generated once and kept in the data
 * folder (mode 0600), and one token per role so a new user can call the API with curl at once.
 */
import path from 'node:path';
import { SignJWT } from 'jose';
import { ROLES, type Role } from '../domain/types';
import { ensureSecretFile } from '../util/secret-file';

export function ensureDevJwtSecret(dataDir: string): Promise<string> {
  return ensureSecretFile(path.join(dataDir, 'jwt-secret'));
}

export interface TokenClaims {
  issuer?: string | undefined;
  audience?: string | undefined;
  /** The Guardian groups distinct-group quorums count. */
  groups?: readonly string[] | undefined;
}

/** How long the starter's development tokens and `wpa token`'s tokens live unless told otherwise. */
export const DEV_TOKEN_TTL = '12h';

/** An HS256 token for `subject` with `roles`, valid for `ttl` (a jose duration such as `12h`). */
export function signToken(secret: string, subject: string, roles: readonly Role[], ttl = DEV_TOKEN_TTL, claims: TokenClaims = {}): Promise<string> {
  let jwt = new SignJWT({ roles: [...roles], ...(claims.groups ? { groups: [...claims.groups] } : {}) }).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuedAt().setExpirationTime(ttl);
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** One token per role, each for its own subject (`dev-operator`, ...), so self-approval rules apply locally too. */
export async function devTokens(secret: string, claims: TokenClaims = {}): Promise<Record<Role, string>> {
  const entries = await Promise.all(ROLES.map(async (role) => [role, await signToken(secret, `dev-${role}`, [role], DEV_TOKEN_TTL, claims)] as const));
  return Object.fromEntries(entries) as Record<Role, string>;
}
