/**
 * Reading and verifying the audit trail: for Guardians, who judge what happened, and admins, who run the
 * service. Operators and viewers get 403: the trail names every caller, address and user agent.
 */
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { checkpointLogFile } from '../../audit/checkpoints';
import { verifyAuditTrail } from '../../audit/verify';
import type { Config } from '../../config';
import { listAuditEvents } from '../../store/audit';
import { requireAnyRole } from '../auth';
import { parseQuery } from '../validation';

/** PostgreSQL refuses NUL in text: such a value would fail the query (500) instead of finding nothing. */
const queryText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date and time, e.g. 2025-01-31T12:00:00Z' }).transform((value) => new Date(value));

const auditQuerySchema = z
  .object({
    patch: z.uuid({ message: 'must be a patch id (UUID)' }).optional(),
    target: z.uuid({ message: 'must be a target id (UUID)' }).optional(),
    actor: queryText(256).optional(),
    action: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/, 'must be an action such as patch.approved, or a prefix ending in a dot such as patch.')
      .optional(),
    /** Events at or after this time. */
    from: instant.optional(),
    /** Events before this time. */
    to: instant.optional(),
    /** The `next` of the previous page: events after this seq. */
    after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .refine((query) => !query.from || !query.to || query.from <= query.to, { message: 'from must not be after to', path: ['from'] });

export function auditRoutes(deps: { pool: Pool; config: Config }): Router {
  const router = Router();
  const auditors = requireAnyRole('guardian', 'admin');

  router.get('/audit', auditors, async (req, res) => {
    const query = parseQuery(auditQuerySchema, req.query);
    const prefix = query.action?.endsWith('.') ? query.action : undefined;
    // One more than asked tells whether another page follows, so the last page says `next: null`.
    const found = await listAuditEvents(deps.pool, {
      ...(query.patch ? { subjectType: 'patch', subjectId: query.patch } : {}),
      targetId: query.target,
      actor: query.actor,
      ...(prefix ? { actionPrefix: prefix } : { action: query.action }),
      from: query.from,
      to: query.to,
      afterSeq: query.after,
      limit: query.limit + 1,
    });
    const items = found.slice(0, query.limit);
    res.json({ items, next: found.length > query.limit ? (items.at(-1)?.seq ?? null) : null });
  });

  router.get('/audit/verify', auditors, async (_req, res) => {
    res.json(
      await verifyAuditTrail({ pool: deps.pool, key: deps.config.audit.checkpointKey, checkpointFile: checkpointLogFile(deps.config.dataDir) }),
    );
  });

  return router;
}
