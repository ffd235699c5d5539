/**
 * `wpa token --sub NAME --role ROLE [--group GROUP]`: mints an HS256 token from the secret the all-in-one starter generated
 * (`DATA_DIR/jwt-secret`) or from JWT_SECRET, within the server's maximum token lifetime. Tokens of a JWKS
 * setup come from the identity provider, not from here.
 */
import path from 'node:path';
import { z } from 'zod';
import { isValidGroup, isValidSubject, MAX_GROUPS } from '../api/auth';
import { DEV_TOKEN_TTL, signToken } from '../api/dev-tokens';
import { loadConfig as loadSettings } from '../config';
import { ROLES } from '../domain/types';
import { readSecretFile } from '../util/secret-file';
import { type CliIo, EXIT, UsageError, validated } from './common';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90s`, `30m`, `12h`, `1d` in seconds; undefined for anything else. */
export function durationSeconds(text: string): number | undefined {
  const match = /^(\d{1,7})([smhd])$/.exec(text);
  return match ? Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1) : undefined;
}

const tokenArgsSchema = z.object({
  sub: z.string({ message: 'is required: the subject (user name) the token is for' }).refine(isValidSubject, 'must be one line of printable text, at most 256 characters'),
  role: z.array(z.enum(ROLES)).min(1, `is required: one or more of ${ROLES.join(', ')}`),
  group: z.array(z.string().refine(isValidGroup, 'must be one line of printable text, at most 128 characters')).max(MAX_GROUPS),
  ttl: z
    .string()
    .refine((ttl) => (durationSeconds(ttl) ?? 0) > 0, 'must be a duration such as 30m, 12h or 1d')
    .default(DEV_TOKEN_TTL),
});

export async function tokenCommand(positionals: string[], values: Record<string, unknown>, io: CliIo, foreignFlags: readonly string[]): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`token: unexpected argument ${positionals[0]}`);
  const misplaced = foreignFlags.find((flag) => values[flag] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} does not apply to token`);
  const args = validated(tokenArgsSchema, { sub: values.sub, role: values.role ?? [], group: values.group ?? [], ttl: values.ttl });
  const settings = loadSettings(io.env, io.cwd);
  if (settings.auth.jwksUrl) throw new UsageError('JWT_JWKS_URL is set: tokens come from your identity provider, not from wpa');
  const secretFile = path.join(settings.dataDir, 'jwt-secret');
  const secret = settings.auth.jwtSecret ?? (await readSecretFile(secretFile));
  if (!secret) throw new UsageError(`no secret to sign with: set JWT_SECRET, or run \`npm start\` once so that it creates ${secretFile}`);
  const lifetime = durationSeconds(args.ttl) ?? 0;
  if (lifetime > settings.auth.maxLifetimeSeconds) {
    throw new UsageError(`--ttl ${args.ttl} is longer than the server accepts (JWT_MAX_LIFETIME_SECONDS=${settings.auth.maxLifetimeSeconds})`);
  }
  const groups = args.group.length > 0 ? { groups: args.group } : {};
  const token = await signToken(secret, args.sub, args.role, `${lifetime}s`, { issuer: settings.auth.issuer, audience: settings.auth.audience, ...groups });
  io.stdout.write(`${token}\n`);
  io.stderr.write(`wpa: token for ${args.sub} (${args.role.join(', ')}${args.group.length > 0 ? `; groups ${args.group.join(', ')}` : ''}), valid until ${new Date(Date.now() + lifetime * 1000).toISOString()}\n`);
  return EXIT.ok;
}
