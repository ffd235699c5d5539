/**
 * The append-only, tamper-evident audit trail. Each event's hash is SHA-256 over the previous event's hash and
 * the event's RFC 8785 canonical JSON, so editing or deleting any row breaks verifyAuditChain(). Appends are
 * serialized by a transaction-scoped advisory lock (concurrent appends would otherwise fork the chain), and an
 * idempotency key makes a retried append (activities retry) return the first event instead of adding another.
 */
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Pool, PoolClient } from 'pg';

const AUDIT_CHAIN_LOCK_KEY = 7_230_415_002;

export interface AuditEventInput {
  actor: string;
  roles?: readonly string[];
  /** What happened, dotted: `http.request`, `patch.approved`, `deployment.reverted`, ... */
  action: string;
  subjectType?: string;
  subjectId?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
  method?: string;
  path?: string;
  status?: number;
  details?: Record<string, unknown>;
  /** Same key, same event: a retried append returns the stored one. */
  idempotencyKey?: string;
  /** Defaults to now; activities pass the workflow's logical time so retries write identical events. */
  at?: Date;
}

export interface AuditEvent {
  seq: number;
  id: string;
  at: string;
  actor: string;
  roles: string[];
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface AuditRow {
  seq: string;
  id: string;
  at: Date;
  actor: string;
  roles: string[];
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function fromRow(row: AuditRow): AuditEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    roles: row.roles,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    requestId: row.request_id,
    ip: row.ip,
    userAgent: row.user_agent,
    method: row.method,
    path: row.path,
    status: row.status,
    details: row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The hashed content of an event: everything but the hash itself. */
function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(event.prevHash).update(canonicalize(event) ?? '').digest('hex');
}

async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export async function appendAuditEvent(pool: Pool, input: AuditEventInput): Promise<AuditEvent> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK_KEY]);
    if (input.idempotencyKey) {
      const existing = await client.query<AuditRow>('SELECT * FROM audit_events WHERE idempotency_key = $1', [input.idempotencyKey]);
      if (existing.rows[0]) return fromRow(existing.rows[0]);
    }
    const head = await client.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    // Millisecond precision: what PostgreSQL stores must hash the same when read back.
    const at = new Date(Math.floor((input.at ?? new Date()).getTime()));
    const unhashed: Omit<AuditEvent, 'hash'> = {
      seq: head.rows[0] ? Number(head.rows[0].seq) + 1 : 1,
      id: randomUUID(),
      at: at.toISOString(),
      actor: input.actor,
      roles: [...(input.roles ?? [])],
      action: input.action,
      subjectType: input.subjectType ?? null,
      subjectId: input.subjectId ?? null,
      requestId: input.requestId ?? null,
      ip: input.ip ?? null,
      userAgent: input.userAgent ?? null,
      method: input.method ?? null,
      path: input.path ?? null,
      status: input.status ?? null,
      details: input.details ?? {},
      prevHash: head.rows[0]?.hash ?? '',
    };
    const event: AuditEvent = { ...unhashed, hash: eventHash(unhashed) };
    await client.query(
      `INSERT INTO audit_events (seq, id, idempotency_key, at, actor, roles, action, subject_type, subject_id, request_id,
         ip, user_agent, method, path, status, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [event.seq, event.id, input.idempotencyKey ?? null, event.at, event.actor, event.roles, event.action, event.subjectType,
        event.subjectId, event.requestId, event.ip, event.userAgent, event.method, event.path, event.status,
        JSON.stringify(event.details), event.prevHash, event.hash],
    );
    return event;
  });
}

export interface AuditListQuery {
  subjectType?: string;
  subjectId?: string;
  afterSeq?: number;
  limit?: number;
}

export async function listAuditEvents(pool: Pool, query: AuditListQuery = {}): Promise<AuditEvent[]> {
  const { rows } = await pool.query<AuditRow>(
    `SELECT * FROM audit_events
      WHERE ($1::text IS NULL OR subject_type = $1) AND ($2::text IS NULL OR subject_id = $2) AND seq > $3
      ORDER BY seq LIMIT $4`,
    [query.subjectType ?? null, query.subjectId ?? null, query.afterSeq ?? 0, query.limit ?? 100],
  );
  return rows.map(fromRow);
}

export interface ChainVerification {
  intact: boolean;
  events: number;
  /** The first event whose hash or link does not match, when broken. */
  firstBrokenSeq?: number;
  headHash: string;
}

/** Walks the whole chain in pages; the head hash can be published elsewhere as an external anchor. */
export async function verifyAuditChain(pool: Pool, pageSize = 1000): Promise<ChainVerification> {
  let prevHash = '';
  let expectedSeq = 1;
  let events = 0;
  for (;;) {
    const page = await listAuditEvents(pool, { afterSeq: expectedSeq - 1, limit: pageSize });
    for (const event of page) {
      const { hash, ...unhashed } = event;
      if (event.seq !== expectedSeq || event.prevHash !== prevHash || eventHash(unhashed) !== hash) {
        return { intact: false, events, firstBrokenSeq: expectedSeq, headHash: prevHash };
      }
      prevHash = hash;
      expectedSeq += 1;
      events += 1;
    }
    if (page.length < pageSize) return { intact: true, events, headHash: prevHash };
  }
}
