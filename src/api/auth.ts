/**
 * Bearer JWT authentication (HS256 with a shared secret, or RS256/ES256 through a JWKS URL) and role checks.
 * Roles: viewer < operator < guardian, plus admin, which includes operator and viewer but not guardian:
 * approving a rollout stays a deliberate Guardian judgement.
 */
import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, errors as joseErrors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../config';
import { type Actor, ROLES, type Role } from '../domain/types';
import { HttpProblem } from './problem';
import { forbiddenCharacter, misleadingCharacter } from './validation';

export type Authenticator = (token: string) => Promise<Actor>;

const MAX_SUBJECT_CHARS = 256;

/**
 * A subject the service can write into commits (Approved-by) and the audit trail: one line of printable text
 * without surrounding spaces, at most 256 characters.
 */
export function isValidSubject(subject: string): boolean {
  return (
    subject.length > 0 &&
    subject.length <= MAX_SUBJECT_CHARS &&
    subject === subject.trim() &&
    !/[\r\n\t]/.test(subject) &&
    forbiddenCharacter(subject) === undefined &&
    misleadingCharacter(subject) === undefined
  );
}

export const MAX_GROUPS = 32;
const MAX_GROUP_CHARS = 128;

/** A group name: one line of printable text like a subject, shorter. */
export function isValidGroup(group: string): boolean {
  return group.length <= MAX_GROUP_CHARS && isValidSubject(group);
}

const claimsSchema = z.object({
  sub: z.string().refine(isValidSubject),
  roles: z.array(z.string()).default([]),
  // Bounded and printable: groups decide which approvals count, and they are recorded with each decision.
  groups: z.array(z.string().refine(isValidGroup)).max(MAX_GROUPS).optional(),
  exp: z.number(),
  iat: z.number().optional(),
});

const includedRoles: Record<Role, readonly Role[]> = {
  viewer: ['viewer'],
  operator: ['operator', 'viewer'],
  guardian: ['guardian', 'operator', 'viewer'],
  admin: ['admin', 'operator', 'viewer'],
};

export function hasRole(actor: Actor, role: Role): boolean {
  return actor.roles.some((held) => includedRoles[held].includes(role));
}

/** Seconds a token's lifetime may exceed the maximum: clocks of issuers and this server disagree a little. */
const CLOCK_TOLERANCE_SECONDS = 60;

export function createAuthenticator(auth: Config['auth']): Authenticator {
  const verifyOptions = {
    requiredClaims: ['exp', 'sub'],
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };
  let verify: (token: string) => Promise<unknown>;
  if (auth.jwksUrl) {
    const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(auth.jwksUrl));
    verify = async (token) => (await jwtVerify(token, jwks, { ...verifyOptions, algorithms: ['RS256', 'ES256'] })).payload;
  } else if (auth.jwtSecret) {
    const key = new TextEncoder().encode(auth.jwtSecret);
    verify = async (token) => (await jwtVerify(token, key, { ...verifyOptions, algorithms: ['HS256'] })).payload;
  } else {
    throw new Error('JWT_SECRET or JWT_JWKS_URL must be set');
  }
  return async (token) => {
    let payload: unknown;
    try {
      payload = await verify(token);
    } catch (error) {
      throw new HttpProblem(401, tokenRefusal(error));
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      if (claims.error.issues.some((issue) => issue.path[0] === 'groups')) {
        throw new HttpProblem(401, `The token's groups claim must be a list of at most ${MAX_GROUPS} group names, each one line of printable text of at most ${MAX_GROUP_CHARS} characters.`);
      }
      throw new HttpProblem(401, 'The token needs a subject (one line of printable text), an expiry (exp) and a list of roles.');
    }
    const lifetime = claims.data.exp - (claims.data.iat ?? Math.floor(Date.now() / 1000));
    if (lifetime > auth.maxLifetimeSeconds + CLOCK_TOLERANCE_SECONDS) {
      throw new HttpProblem(401, `The token is valid for longer than this server accepts (at most ${auth.maxLifetimeSeconds} seconds); ask for a shorter-lived one.`);
    }
    const roles = claims.data.roles.filter((role): role is Role => (ROLES as readonly string[]).includes(role));
    const groups = [...new Set(claims.data.groups ?? [])];
    return { subject: claims.data.sub, roles, ...(groups.length > 0 ? { groups } : {}) };
  };
}

function tokenRefusal(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.reason === 'missing') {
    return `The token has no "${error.claim}" claim; this server accepts only tokens that expire and name their subject.`;
  }
  return 'The token is not valid.';
}

/** The authenticated caller of this request (set by `authenticate`). */
export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new Error('route is missing the authenticate middleware');
  return actor;
}

export function authenticate(authenticator: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      next(new HttpProblem(401, 'Send `Authorization: Bearer <token>`.'));
      return;
    }
    try {
      res.locals.actor = await authenticator(match[1]);
      next();
    } catch (error) {
      res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
      next(error);
    }
  };
}

export function requireRole(role: Role): RequestHandler {
  return requireAnyRole(role);
}

/** Lets a caller through who holds (or includes) at least one of `roles`, e.g. `requireAnyRole('guardian', 'admin')`. */
export function requireAnyRole(...roles: [Role, ...Role[]]): RequestHandler {
  const needed = roles.length === 1 ? `the ${roles[0]} role` : `the ${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]} role`;
  return (_req, res, next) => {
    const actor = actorOf(res);
    next(roles.some((role) => hasRole(actor, role)) ? undefined : new HttpProblem(403, `This action needs ${needed}.`));
  };
}
