/**
 * The audit trail of requests. A change is written to the trail before it can be seen: in the same transaction
 * as the read-model rows it creates, or, where the change is a Temporal call, before that call. When the event
 * cannot be written the request fails with 503 and nothing happens. Denied requests (401, 403), which change
 * nothing, are written after the response.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Actor } from '../domain/types';
import { type AuditEventInput, appendAuditEvent } from '../store/audit';
import { withTransaction } from '../store/db';
import { HttpProblem } from './problem';
import { forbiddenCharacter, misleadingCharacter } from './validation';

const MAX_USER_AGENT_CHARS = 512;

/** A user agent as stored: printable, bounded (it is the client's free text). */
function storedUserAgent(header: string | undefined): string {
  const printable = Array.from((header ?? '').slice(0, MAX_USER_AGENT_CHARS), (char) =>
    /[\t\r\n]/.test(char) || forbiddenCharacter(char) || misleadingCharacter(char) ? '?' : char,
  );
  return printable.join('');
}

/** Who asked, from where, for what: the request part of an event. */
function requestFields(req: Request, res: Response): Omit<AuditEventInput, 'action'> {
  const actor = res.locals.actor as Actor | undefined;
  return {
    actor: actor?.subject ?? 'anonymous',
    roles: actor?.roles ?? [],
    requestId: String(res.getHeader('x-request-id') ?? ''),
    ip: req.ip ?? req.socket.remoteAddress ?? '',
    userAgent: storedUserAgent(req.headers['user-agent']),
    method: req.method,
    path: req.originalUrl.split('?')[0] ?? req.originalUrl,
  };
}

export interface RequestEvent {
  /** What the request does, dotted: `target.created`, `patch.approve_requested`, ... */
  action: string;
  subjectType: string;
  subjectId: string;
  details?: Record<string, unknown>;
}

class AuditUnavailableError extends HttpProblem {
  constructor() {
    super(503, 'The audit trail could not be written, so nothing was changed; retry in a moment.', {}, 'about:blank');
  }
}

async function append(db: Pool | PoolClient, req: Request, res: Response, event: RequestEvent): Promise<void> {
  try {
    await appendAuditEvent(db, { ...requestFields(req, res), ...event });
  } catch (error) {
    throw Object.assign(new AuditUnavailableError(), { cause: error });
  }
}

/** Records the request's event, then (only then) lets the caller perform the effect it describes. */
export function auditBeforeEffect(pool: Pool, req: Request, res: Response, event: RequestEvent): Promise<void> {
  return append(pool, req, res, event);
}

/**
 * Runs `change` and records the request's event in one transaction: both are stored, or neither. `describe`
 * builds the event from what the change returned (e.g. the new row's id).
 */
export async function changeWithAudit<T>(pool: Pool, req: Request, res: Response, change: (client: PoolClient) => Promise<T>, describe: (result: T) => RequestEvent): Promise<T> {
  return withTransaction(pool, async (client) => {
    const result = await change(client);
    await append(client, req, res, describe(result));
    return result;
  });
}

/** Writes `http.denied` for every 401 and 403 after the response is sent; a failure is logged. */
export function auditDeniedRequests(pool: Pool, logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.on('finish', () => {
      if (res.statusCode !== 401 && res.statusCode !== 403) return;
      appendAuditEvent(pool, { ...requestFields(req, res), action: 'http.denied', status: res.statusCode }).catch((error: unknown) =>
        logger.error({ err: error }, 'could not write the audit event of a denied request'),
      );
    });
    next();
  };
}
