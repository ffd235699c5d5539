import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Actor } from '../domain/types';
import { appendAuditEvent } from '../store/audit';
import { HttpProblem } from './problem';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Honours a well-formed incoming X-Request-Id, else makes one; echoed in the response and in problems. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  next();
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Mutating requests must send JSON (or nothing); anything else is a 415 rather than a silently empty body. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (MUTATING.has(req.method) && hasBody && !req.is('application/json')) {
    next(new HttpProblem(415, 'Send the request body as application/json.'));
    return;
  }
  next();
};

/**
 * Writes an audit event for every mutating request and every denied one (401/403), after the response is
 * sent: actor, roles, IP, user agent, method, path, status, request id, time.
 */
export function auditRequests(pool: Pool, logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      const denied = res.statusCode === 401 || res.statusCode === 403;
      if (!MUTATING.has(req.method) && !denied) return;
      const actor = res.locals.actor as Actor | undefined;
      appendAuditEvent(pool, {
        actor: actor?.subject ?? 'anonymous',
        roles: actor?.roles ?? [],
        action: denied ? 'http.denied' : 'http.request',
        requestId: String(res.getHeader('x-request-id') ?? ''),
        ip: req.ip ?? req.socket.remoteAddress ?? '',
        userAgent: req.headers['user-agent'] ?? '',
        method: req.method,
        path: req.originalUrl.split('?')[0] ?? req.originalUrl,
        status: res.statusCode,
      }).catch((error: unknown) => logger.error({ err: error }, 'could not write the audit event of a request'));
    });
    next();
  };
}
